import { APP_UPLOADS_DIR } from "./paths";
import { assertHost, assertPort, assertSafeAbsPath } from "./validation";

/** A database endpoint: host, optionally with its own port. */
export interface DbHost {
  host: string;
  port?: number;
}

/** Values the demo app reads from `/etc/dns-rr-ha/app.env`. */
export interface AppEnvSettings {
  /** Region slug shown by the app, e.g. `nyc3`. */
  region: string;
  /** Databases in preference order: the local region's master first. */
  dbHosts: (string | DbHost)[];
  dbName: string;
  dbUser: string;
  dbPassword: string;
  /** Port used for hosts without their own. Default 3306. */
  dbPort?: number;
  /** Uploads dir the app writes to. Default `/var/www/dns-rr-ha/shared/uploads`. */
  uploadsDir?: string;
  /**
   * CA certificate file the database servers' certificates are verified with. When set, the app
   * connects over TLS and checks the server's certificate and address; without it, in plain text.
   */
  dbSslCa?: string;
  /**
   * Members of the database cluster, the arbitrator included (DB_CLUSTER_SIZE): /db-health fails
   * while the cluster has fewer. Unset: the size is not checked.
   */
  dbClusterSize?: number;
}

/**
 * Renders the app's env file: `KEY='value'` lines. The demo app's parser
 * (demo/lib.php) takes everything after the first `=` and strips one pair of
 * matching surrounding quotes with no escape processing, so any value without
 * a newline round-trips exactly (a password may contain quotes, `$`, `#`, `;`).
 * It is NOT meant to be `source`d by a shell.
 */
export function renderAppEnv(s: AppEnvSettings): string {
  const dbPort = s.dbPort ?? 3306;
  assertPort(dbPort, "dbPort");
  if (s.dbHosts.length === 0) throw new Error("dbHosts: at least one database host is required");
  const hosts = s.dbHosts.map((h, i) => {
    const entry = typeof h === "string" ? { host: h } : h;
    assertHost(entry.host, `dbHosts[${i}].host`);
    if (entry.port === undefined) return entry.host;
    assertPort(entry.port, `dbHosts[${i}].port`);
    return `${entry.host}:${entry.port}`;
  });
  const uploadsDir = s.uploadsDir ?? APP_UPLOADS_DIR;
  assertSafeAbsPath(uploadsDir, "uploadsDir");
  if (s.dbSslCa !== undefined) assertSafeAbsPath(s.dbSslCa, "dbSslCa");
  if (s.dbClusterSize !== undefined && (!Number.isInteger(s.dbClusterSize) || s.dbClusterSize < 1 || s.dbClusterSize > 256)) {
    throw new Error(`dbClusterSize: must be a whole number of cluster members from 1 to 256 (got ${s.dbClusterSize})`);
  }
  if (!/^[a-z0-9-]{1,64}$/.test(s.region)) throw new Error(`region: invalid slug: ${JSON.stringify(s.region)}`);
  const vars: [string, string][] = [
    ["REGION", s.region],
    ["DB_HOSTS", hosts.join(",")],
    ["DB_PORT", String(dbPort)],
    ["DB_NAME", s.dbName],
    ["DB_USER", s.dbUser],
    ["DB_PASSWORD", s.dbPassword],
    ["UPLOADS_DIR", uploadsDir],
    ...(s.dbSslCa !== undefined ? [["DB_SSL_CA", s.dbSslCa] as [string, string]] : []),
    ...(s.dbClusterSize !== undefined ? [["DB_CLUSTER_SIZE", String(s.dbClusterSize)] as [string, string]] : []),
  ];
  for (const [k, v] of vars) {
    if (/[\r\n\0]/.test(v)) throw new Error(`${k}: value must not contain newlines or NUL`);
    if (v === "" && k !== "DB_PASSWORD") throw new Error(`${k}: must not be empty`);
  }
  return [
    "# Managed by dns-rr-ha (components/app/appEnv.ts). Read by the demo app, not a shell script.",
    ...vars.map(([k, v]) => `${k}='${v}'`),
    "",
  ].join("\n");
}
