/**
 * The database droplet scripts (read from ./scripts), paired with their
 * install path on the droplet for cloud-init `write_files`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Where the database scripts are installed on a droplet (root-owned, 0755). */
export const DB_SCRIPT_PATHS = {
  /** Wiring entry point, run as root over SSH after the inputs listed in `dbWiringPaths` (wiringFiles.ts) were written. */
  wire: "/usr/local/sbin/dns-rr-ha-wire-db",
  /** Monitoring: one TSV line per replication connection; exit 0 healthy, 1 unhealthy, 2 server down. */
  health: "/usr/local/sbin/dns-rr-ha-db-health",
} as const;

/** Source file (under ./scripts) of each entry of {@link DB_SCRIPT_PATHS}. */
export const DB_SCRIPT_SOURCES: Readonly<Record<keyof typeof DB_SCRIPT_PATHS, string>> = {
  wire: "wire-db.sh",
  health: "db-health.sh",
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
export function dbScriptSourcePath(name: keyof typeof DB_SCRIPT_PATHS): string {
  return path.join(__dirname, "scripts", DB_SCRIPT_SOURCES[name]);
}

/** Scripts to install on a database droplet via cloud-init write_files. */
export function dbScripts(): DbScriptFile[] {
  return (Object.keys(DB_SCRIPT_PATHS) as (keyof typeof DB_SCRIPT_PATHS)[]).map((name) => ({
    path: DB_SCRIPT_PATHS[name],
    content: fs.readFileSync(dbScriptSourcePath(name), "utf8"),
    mode: "0755",
  }));
}
