/**
 * The inputs of the droplet-side wiring script (scripts/wire-db.sh): where
 * they go and how the small env file is rendered. The SQL files hold
 * passwords, so they are only ever sent over SSH (never in cloud-init).
 */
import { DB_SCRIPT_PATHS, type DbScriptFile } from "./dbScripts";

/** Files wire-db.sh reads; the wiring command writes them before running it. */
export const dbWiringPaths = {
  /** KEY=VALUE: VOLUME_NAME, DATADIR, CLUSTER_SIZE (see {@link renderDbEnv}). */
  env: "/etc/dns-rr-ha/db/db.env",
  /** Output of renderMyCnf; installed as /etc/mysql/mariadb.conf.d/60-dns-rr-ha.cnf. */
  myCnf: "/etc/dns-rr-ha/db/my.cnf",
  /** Output of renderUsersSql (secret). */
  usersSql: "/etc/dns-rr-ha/db/users.sql",
} as const;

/** Command the wiring runs (as root) after writing {@link dbWiringPaths}; idempotent, run on every change. */
export const DB_WIRE_COMMAND: string = DB_SCRIPT_PATHS.wire;

/** The same, forming a new cluster from this node (once per stack, on its first node; see wire-db.sh). */
export const DB_BOOTSTRAP_COMMAND = `${DB_SCRIPT_PATHS.wire} --bootstrap`;

/** Inputs of {@link renderDbEnv}. */
export interface DbEnvSettings {
  /** DigitalOcean volume name: device /dev/disk/by-id/scsi-0DO_Volume_<name>, mounted at /mnt/<name>. */
  readonly volumeName: string;
  /** Datadir below the mount point; default {@link dbDatadir}(volumeName). Must equal MyCnfSettings.datadir. */
  readonly datadir?: string;
  /** Members of the cluster (data nodes + arbitrator): a rolling restart waits for all of them. */
  readonly clusterSize: number;
  /** How long wire-db.sh waits for the volume device to appear (default 300 s). */
  readonly mountWaitSeconds?: number;
  /** How long wire-db.sh waits for MariaDB to be Synced after a (re)start, a state transfer included (default 3600 s). */
  readonly startWaitSeconds?: number;
}

const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The datadir on a volume: `/mnt/<volumeName>/mysql`. */
export function dbDatadir(volumeName: string): string {
  return `/mnt/${volumeName}/mysql`;
}

/**
 * Render db.env for wire-db.sh (which parses, never sources, it).
 * @throws if the volume name or datadir would be rejected by the script.
 */
export function renderDbEnv(s: DbEnvSettings): string {
  if (!VOLUME_NAME.test(s.volumeName)) {
    throw new Error(`volumeName ${JSON.stringify(s.volumeName)} must match ${VOLUME_NAME} (DigitalOcean volume names)`);
  }
  const datadir = s.datadir ?? dbDatadir(s.volumeName);
  const mount = `/mnt/${s.volumeName}/`;
  if (!datadir.startsWith(mount) || !/^[A-Za-z0-9._/-]+$/.test(datadir) || datadir.includes("..")) {
    throw new Error(`datadir ${JSON.stringify(datadir)} must be a plain path below ${mount}`);
  }
  const waits: [string, number | undefined][] = [
    ["MOUNT_WAIT_SECONDS", s.mountWaitSeconds],
    ["START_WAIT_SECONDS", s.startWaitSeconds],
  ];
  if (!Number.isInteger(s.clusterSize) || s.clusterSize < 1 || s.clusterSize > 256) throw new Error(`clusterSize must be a whole number of members from 1 to 256 (got ${s.clusterSize})`);
  const lines = [`VOLUME_NAME=${s.volumeName}`, `DATADIR=${datadir}`, `CLUSTER_SIZE=${s.clusterSize}`];
  for (const [key, value] of waits) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0) throw new Error(`${key} must be a whole number of seconds (got ${value})`);
    lines.push(`${key}=${value}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Rendered contents of the wiring inputs. */
export interface DbWiringInputs {
  /** Output of {@link renderDbEnv}. */
  readonly dbEnv: string;
  /** Output of renderMyCnf. */
  readonly myCnf: string;
  /** Output of renderUsersSql. */
  readonly usersSql: string;
}

/** The wiring inputs as files to send over SSH (secrets 0600, the rest 0644; all root-owned). */
export function dbWiringFiles(inputs: DbWiringInputs): DbScriptFile[] {
  return [
    { path: dbWiringPaths.env, content: inputs.dbEnv, mode: "0644" },
    { path: dbWiringPaths.myCnf, content: inputs.myCnf, mode: "0644" },
    { path: dbWiringPaths.usersSql, content: inputs.usersSql, mode: "0600" },
  ];
}
