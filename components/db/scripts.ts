/**
 * The database droplet scripts (read from ./scripts), paired with their
 * install path on the droplet for cloud-init `write_files`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Where the database scripts are installed on a droplet (root-owned, 0755). */
export const dbScriptPaths = {
  /** Wiring entry point, run as root over SSH after the inputs of {@link dbWiringPaths} were written. */
  wireDb: "/usr/local/sbin/dns-rr-ha-wire-db",
  /** Monitoring: one TSV line per replication connection; exit 0 healthy, 1 unhealthy, 2 server down. */
  dbHealth: "/usr/local/sbin/dns-rr-ha-db-health",
} as const;

/** Source file (under ./scripts) of each entry of {@link dbScriptPaths}. */
export const dbScriptSources: Readonly<Record<keyof typeof dbScriptPaths, string>> = {
  wireDb: "wire-db.sh",
  dbHealth: "db-health.sh",
};

/** A file to install on a droplet (shape of a cloud-init write_files entry). */
export interface DbScriptFile {
  /** Absolute install path on the droplet. */
  readonly path: string;
  /** File content. */
  readonly content: string;
  /** Octal permission string, e.g. "0755". */
  readonly mode: string;
}

/** Absolute path of the source of a script in this repository. */
export function dbScriptSourcePath(name: keyof typeof dbScriptPaths): string {
  return path.join(__dirname, "scripts", dbScriptSources[name]);
}

/** Scripts to install on a database droplet via cloud-init write_files. */
export function dbScripts(): DbScriptFile[] {
  return (Object.keys(dbScriptPaths) as (keyof typeof dbScriptPaths)[]).map((name) => ({
    path: dbScriptPaths[name],
    content: fs.readFileSync(dbScriptSourcePath(name), "utf8"),
    mode: "0755",
  }));
}
