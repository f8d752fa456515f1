import { readFileSync } from "node:fs";

/** One `Types: deb` stanza of a deb822 `.sources` file. */
export interface AptSource {
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
}

/** Where the host's own apt sources live on Debian 12. */
export const HOST_SOURCES_FILE = "/etc/apt/sources.list.d/debian.sources";

/**
 * Parses the binary (`Types: deb`) stanzas of a deb822 sources file.
 * Comment lines are dropped; continuation lines are not needed for the fields we read.
 */
export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split("\n")) {
      if (line.startsWith("#") || !line.includes(":") || /^\s/.test(line)) continue;
      const idx = line.indexOf(":");
      fields.set(line.slice(0, idx).trim().toLowerCase(), line.slice(idx + 1).trim());
    }
    const types = (fields.get("types") ?? "").split(/\s+/);
    if (!types.includes("deb") || fields.get("enabled") === "no") continue;
    const words = (k: string): string[] => (fields.get(k) ?? "").split(/\s+/).filter(Boolean);
    const source: AptSource = { uris: words("uris"), suites: words("suites"), components: words("components") };
    const signedBy = fields.get("signed-by");
    if (signedBy) source.signedBy = signedBy;
    if (source.uris.length && source.suites.length) sources.push(source);
  }
  return sources;
}

/**
 * The mirror debootstrap should use for `suite`: the first URI of the first
 * stanza that carries that exact suite (not `-updates`/`-security`).
 */
export function mirrorForSuite(sources: readonly AptSource[], suite: string): string {
  const hit = sources.find((s) => s.suites.includes(suite));
  if (!hit) throw new Error(`no apt source for suite ${suite} in host sources`);
  return hit.uris[0]!;
}

/** Renders sources for the chroot build; only `deb` stanzas, so the build never fetches source indexes. */
export function renderDeb822Sources(sources: readonly AptSource[]): string {
  return sources
    .map((s) =>
      [
        "Types: deb",
        `URIs: ${s.uris.join(" ")}`,
        `Suites: ${s.suites.join(" ")}`,
        `Components: ${(s.components.length ? s.components : ["main"]).join(" ")}`,
        ...(s.signedBy ? [`Signed-By: ${s.signedBy}`] : []),
      ].join("\n"),
    )
    .join("\n\n")
    .concat("\n");
}

/** Reads and parses the host's apt sources (the lab builds from the mirror the host already uses). */
export function readHostSources(file: string = HOST_SOURCES_FILE): AptSource[] {
  return parseDeb822Sources(readFileSync(file, "utf8"));
}
