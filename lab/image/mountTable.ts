import { readFileSync } from "node:fs";
import path from "node:path";
import { runCommand } from "./runCommand";

/** One line of /proc/mounts. */
export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string;
}

/** The kernel escapes space, tab, newline and backslash in mount paths as \ooo octal. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses the text of /proc/mounts (or /proc/self/mountinfo-less `mounts` format). */
export function parseProcMounts(text: string): MountEntry[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const [source = "", target = "", fstype = "", options = ""] = line.split(" ");
      return {
        source: unescapeMountField(source),
        target: unescapeMountField(target),
        fstype,
        options,
      };
    });
}

/**
 * Mounts at or below `dir` in this process's mount namespace, deepest first
 * (the order they must be unmounted in).
 */
export function mountsUnder(dir: string, procMountsText?: string): MountEntry[] {
  const root = path.resolve(dir);
  const text = procMountsText ?? readFileSync("/proc/self/mounts", "utf8");
  return parseProcMounts(text)
    .filter((m) => m.target === root || m.target.startsWith(root + "/"))
    .sort((a, b) => b.target.length - a.target.length);
}

/**
 * Unmounts everything at or below `dir`, deepest first. A busy mount is
 * retried a few times (a just-killed container may still hold it for a
 * moment) and finally detached lazily, so no mount is ever left behind.
 * @returns the targets that were unmounted
 */
export async function unmountAllUnder(dir: string): Promise<string[]> {
  const done: string[] = [];
  for (let round = 0; round < 20; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) return done;
    const lazy = round >= 10;
    for (const m of mounts) {
      const res = await runCommand("umount", lazy ? ["--lazy", m.target] : [m.target]);
      if (res.code === 0) done.push(m.target);
    }
    if (!lazy) await new Promise((r) => setTimeout(r, 100));
  }
  const left = mountsUnder(dir);
  if (left.length) throw new Error(`could not unmount: ${left.map((m) => m.target).join(", ")}`);
  return done;
}
