import * as fs from "fs";
import * as path from "path";

/** A script to install on a droplet: install path, content, mode (the shape of a write_files entry). */
export interface DropletScript {
    /** Absolute install path on the droplet. */
    readonly path: string;
    readonly content: string;
    /** Octal permission string, e.g. "0755". */
    readonly mode: string;
}

/**
 * Reads a role's scripts from `sourceDir` (shipped beside the component) and pairs each with its
 * install path: `installPaths[name]` receives `sources[name]`, root-owned and executable.
 */
export function dropletScripts<K extends string>(sourceDir: string, installPaths: Readonly<Record<K, string>>, sources: Readonly<Record<K, string>>): DropletScript[] {
    return (Object.keys(installPaths) as K[]).map((name) => ({
        path: installPaths[name],
        content: fs.readFileSync(path.join(sourceDir, sources[name]), "utf8"),
        mode: "0755",
    }));
}
