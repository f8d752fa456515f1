import { assertHost, assertIntInRange, assertPort } from "./validation";

/** One memcached node that stores PHP sessions. */
export interface MemcachedServer {
  /** Private address (or resolvable name) of the node. */
  address: string;
  /** TCP port, usually 11211. */
  port: number;
}

/** Settings for the PHP session ini (memcached-backed sessions). */
export interface PhpSessionIniSettings {
  /** All session nodes, in the same order on every app server (the hash ring depends on it). */
  memcachedServers: MemcachedServer[];
  /** Upper bound for extra copies of each session. Default 2 (three copies in total). */
  maxReplicas?: number;
  /**
   * TCP connect timeout to a node, ms. Paid once per request while a node is
   * down (sessions are not persistent connections), so keep it short but above
   * the worst cross-region round trip. Default 300.
   */
  connectTimeoutMs?: number;
  /** Session lock back-off, ms: first wait and cap of the doubling waits. Defaults 25 / 200. */
  lockWaitMinMs?: number;
  lockWaitMaxMs?: number;
  /** Lock attempts before session_start() gives up. Default 10 (~1.5 s of waiting on a held lock). */
  lockRetries?: number;
  /** A lock left by a crashed request expires after this, seconds. Default 30. */
  lockExpireSec?: number;
  /** Idle session lifetime = memcached item TTL, seconds. Default 3600. */
  sessionLifetimeSec?: number;
  /** Send the cookie only over HTTPS. Default false (the LB may speak plain HTTP). */
  cookieSecure?: boolean;
  /** Session cookie name. Default `PHPSESSID`. */
  cookieName?: string;
}

/**
 * How many extra copies of each session php-memcached writes: one fewer than
 * the number of nodes (every node holds every session) up to `maxReplicas`,
 * and at least 1 whenever there are two nodes, so one node's loss loses nothing.
 */
export function sessionReplicaCount(serverCount: number, maxReplicas = 2): number {
  assertIntInRange(serverCount, 1, 1000, "serverCount");
  assertIntInRange(maxReplicas, 1, 100, "maxReplicas");
  return Math.min(serverCount - 1, maxReplicas);
}

/**
 * Fixed at 1 on purpose (measured with php-memcached 3.2 / libmemcached on
 * Debian 12): with a limit of 1 the first refused/timed-out connect removes the
 * node from the ring and the next lock attempt lands on the replica; with a
 * limit >= 2 the node sits in "disabled until timed retry" for the rest of the
 * request, every lock attempt fails and session_start() fails, i.e. the
 * session is lost for that request.
 */
const SERVER_FAILURE_LIMIT = 1;
/** The first lock attempt can be the one that detects a dead node; a second must follow. */
const MIN_LOCK_RETRIES = SERVER_FAILURE_LIMIT + 1;

/**
 * Renders a php.ini fragment (`mods-available/dns-rr-ha-session.ini`, enabled
 * for the fpm SAPI) storing sessions in memcached through php-memcached with
 * consistent hashing and replicas, failing over when a node dies, plus safe
 * session-cookie settings.
 */
export function renderPhpSessionIni(s: PhpSessionIniSettings): string {
  const servers = s.memcachedServers;
  if (servers.length === 0) throw new Error("memcachedServers: at least one server is required");
  servers.forEach((m, i) => {
    assertHost(m.address, `memcachedServers[${i}].address`);
    assertPort(m.port, `memcachedServers[${i}].port`);
  });
  const seen = new Set(servers.map((m) => `${m.address}:${m.port}`));
  if (seen.size !== servers.length) throw new Error("memcachedServers: duplicate server");

  const replicas = sessionReplicaCount(servers.length, s.maxReplicas ?? 2);
  const connectTimeoutMs = s.connectTimeoutMs ?? 300;
  const lockWaitMinMs = s.lockWaitMinMs ?? 25;
  const lockWaitMaxMs = s.lockWaitMaxMs ?? 200;
  const lockRetries = s.lockRetries ?? 10;
  const lockExpireSec = s.lockExpireSec ?? 30;
  const lifetime = s.sessionLifetimeSec ?? 3600;
  const cookieName = s.cookieName ?? "PHPSESSID";
  assertIntInRange(connectTimeoutMs, 10, 10_000, "connectTimeoutMs");
  assertIntInRange(lockWaitMinMs, 1, 10_000, "lockWaitMinMs");
  assertIntInRange(lockWaitMaxMs, lockWaitMinMs, 10_000, "lockWaitMaxMs");
  assertIntInRange(lockRetries, MIN_LOCK_RETRIES, 1000, "lockRetries");
  assertIntInRange(lockExpireSec, 1, 3600, "lockExpireSec");
  assertIntInRange(lifetime, 60, 30 * 24 * 3600, "sessionLifetimeSec");
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(cookieName)) throw new Error(`cookieName: invalid: ${cookieName}`);

  const savePath = servers.map((m) => `${m.address}:${m.port}`).join(",");
  return [
    "; priority=99",
    "; Managed by dns-rr-ha (components/app/phpSessionIni.ts). Local edits are overwritten.",
    "",
    "session.save_handler = memcached",
    // Same order on every app server: it is the ketama ring, so it decides which node is primary.
    `session.save_path = "${savePath}"`,
    `session.name = ${cookieName}`,
    `session.gc_maxlifetime = ${lifetime}`,
    // Off on purpose (measured): strict mode probes the id on the session's
    // primary node before reading; when that node is dead the probe fails, PHP
    // issues a new id and the session is lost although a replica holds it. The
    // demo app does the fixation defence itself (lib.php app_session_start):
    // an id that comes with no session data is replaced by a fresh one.
    "session.use_strict_mode = 0",
    "session.use_cookies = 1",
    "session.use_only_cookies = 1",
    "session.use_trans_sid = 0",
    "session.cookie_httponly = 1",
    'session.cookie_samesite = "Lax"',
    `session.cookie_secure = ${s.cookieSecure === true ? 1 : 0}`,
    "",
    "; Ketama: adding/removing a node remaps only that node's share of sessions.",
    "memcached.sess_consistent_hash = On",
    "memcached.sess_consistent_hash_type = ketama",
    "; Replication in libmemcached only works over the binary protocol.",
    "memcached.sess_binary_protocol = On",
    `memcached.sess_number_of_replicas = ${replicas}`,
    "; Read the primary copy; reading a random replica could return an older session.",
    "memcached.sess_randomize_replica_read = Off",
    "; A dead node is dropped from the ring on its first failure (see phpSessionIni.ts).",
    "memcached.sess_remove_failed_servers = On",
    `memcached.sess_server_failure_limit = ${SERVER_FAILURE_LIMIT}`,
    `memcached.sess_connect_timeout = ${connectTimeoutMs}`,
    "; New connection per request: a node that comes back is used again at once.",
    "memcached.sess_persistent = Off",
    "memcached.sess_prefix = \"dnsrrha.sess.\"",
    "",
    "; Locking serialises concurrent requests of one session (no lost counter updates).",
    "memcached.sess_locking = On",
    `memcached.sess_lock_wait_min = ${lockWaitMinMs}`,
    `memcached.sess_lock_wait_max = ${lockWaitMaxMs}`,
    `memcached.sess_lock_retries = ${lockRetries}`,
    `memcached.sess_lock_expire = ${lockExpireSec}`,
    "",
  ].join("\n");
}
