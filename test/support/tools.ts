import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A file that a checked text names by its absolute path on the droplet (e.g. haproxy.cfg's `crt`). */
export interface CompanionFile {
    readonly path: string;
    readonly content: string;
}

/**
 * Runs a real tool on a text written to a temp file ({} in args is the file's path). Each
 * companion is written beside it, and its droplet path in the text replaced by where it was written.
 */
export function checkWith(tool: string, args: readonly string[], text: string, fileName = "input", companions: readonly CompanionFile[] = []): { status: number | null; output: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-"));
    try {
        let checked = text;
        companions.forEach((c, i) => {
            const local = path.join(dir, `companion-${i}-${path.basename(c.path)}`);
            fs.writeFileSync(local, c.content, { mode: 0o600 });
            checked = checked.split(c.path).join(local);
        });
        const file = path.join(dir, fileName);
        fs.writeFileSync(file, checked);
        const r = spawnSync(tool, args.map((a) => a.replace("{}", file)), { encoding: "utf8", timeout: 60_000 });
        if (r.error) throw r.error;
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
