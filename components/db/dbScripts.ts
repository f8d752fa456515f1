/**
 * The database droplet scripts (read from ./scripts), paired with their
 * install path on the droplet for cloud-init `write_files`.
 */
import * as path from "node:path";
import { DropletScript, dropletScripts } from "../droplet/dropletScripts";

/** Where the database scripts are installed on a droplet (root-owned, 0755). */
export const DB_SCRIPT_PATHS = {
  /**
   * Wiring entry point, run as root over SSH after the inputs listed in `dbWiringPaths`
   * (wiringFiles.ts) were written; `--bootstrap` forms a new cluster (once per stack, first node).
   */
  wire: "/usr/local/sbin/dns-rr-ha-wire-db",
  /**
   * Health of this cluster member as JSON (state, primary component, members); exit 0 healthy,
   * 1 serving but a member is missing, 3 not serving (non-primary, joining), 2 server down.
   */
  health: "/usr/local/sbin/dns-rr-ha-db-health",
} as const;

/** Source file (under ./scripts) of each entry of {@link DB_SCRIPT_PATHS}. */
export const DB_SCRIPT_SOURCES: Readonly<Record<keyof typeof DB_SCRIPT_PATHS, string>> = {
  wire: "wire-db.sh",
  health: "db-health.sh",
};

/** A file to install on a droplet (shape of a cloud-init write_files entry). */
export type DbScriptFile = DropletScript;

/** Absolute path of the source of a script in this repository. */
export function dbScriptSourcePath(name: keyof typeof DB_SCRIPT_PATHS): string {
  return path.join(__dirname, "scripts", DB_SCRIPT_SOURCES[name]);
}

/** Scripts to install on a database droplet via cloud-init write_files. */
export function dbScripts(): DbScriptFile[] {
  return dropletScripts(path.join(__dirname, "scripts"), DB_SCRIPT_PATHS, DB_SCRIPT_SOURCES);
}
