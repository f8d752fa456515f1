import { FPM_STATUS_PATH, PHP_FPM_SOCKET } from "./paths";
import { assertIntInRange, assertName, assertSafeAbsPath, assertUrlPath } from "./validation";

/** Process-manager sizes of a `pm = dynamic` pool. */
export interface PmSizes {
  maxChildren: number;
  startServers: number;
  minSpareServers: number;
  maxSpareServers: number;
}

/** Settings for the app's php-fpm pool. */
export interface PhpFpmPoolSettings {
  /** Pool name (section header, log prefix). Default `dns-rr-ha`. */
  poolName?: string;
  /** Worker user/group. Default `www-data`. */
  user?: string;
  group?: string;
  /** Unix socket nginx connects to. Default `/run/php/dns-rr-ha-fpm.sock`. */
  listenSocket?: string;
  /** Owner/group of the socket: nginx's worker user. Default `www-data`. */
  listenOwner?: string;
  listenGroup?: string;
  /** RAM of the droplet in MiB; the pool is sized from what is left after `reservedMb`. */
  memoryMb: number;
  /** Typical resident size of one worker, MiB. Default 40. */
  perChildMb?: number;
  /** Memory kept for the OS, nginx, lsyncd and page cache, MiB. Default 384. */
  reservedMb?: number;
  /** PHP `memory_limit` per request, MiB. Default 128. */
  memoryLimitMb?: number;
  /** Largest upload, MiB; must not exceed nginx's `client_max_body_size`. */
  uploadMaxMb: number;
  /** URL of the status page; nginx only lets on-box clients reach it. Default `/fpm-status`. */
  statusPath?: string;
  /** If set, exported to PHP as env `DNS_RR_HA_APP_ENV` (the demo app's config file). */
  appEnvPath?: string;
  /** Recycle a worker after this many requests (bounds slow leaks). Default 500. */
  maxRequests?: number;
  /** Kill a request running longer than this, seconds. Default 60. */
  requestTerminateTimeoutSec?: number;
}

/**
 * Sizes a dynamic pool for a droplet. `max_children` is what fits in the memory
 * left after `reservedMb` (at least 2 so one slow request cannot block health
 * checks); spares are kept proportional so php-fpm's own constraints
 * (min_spare <= start <= max_spare <= max_children) always hold.
 */
export function computePmSizes(memoryMb: number, perChildMb = 40, reservedMb = 384): PmSizes {
  assertIntInRange(memoryMb, 256, 1024 * 1024, "memoryMb");
  assertIntInRange(perChildMb, 8, 4096, "perChildMb");
  assertIntInRange(reservedMb, 0, memoryMb, "reservedMb");
  const maxChildren = Math.min(256, Math.max(2, Math.floor((memoryMb - reservedMb) / perChildMb)));
  const minSpareServers = Math.max(1, Math.floor(maxChildren / 8));
  const maxSpareServers = Math.max(minSpareServers + 1, Math.floor(maxChildren / 2));
  const startServers = minSpareServers + Math.floor((maxSpareServers - minSpareServers) / 2);
  return { maxChildren, startServers, minSpareServers, maxSpareServers };
}

/** Renders the pool file (`/etc/php/8.2/fpm/pool.d/<name>.conf`). */
export function renderPhpFpmPool(s: PhpFpmPoolSettings): string {
  const name = s.poolName ?? "dns-rr-ha";
  const user = s.user ?? "www-data";
  const group = s.group ?? "www-data";
  const socket = s.listenSocket ?? PHP_FPM_SOCKET;
  const listenOwner = s.listenOwner ?? "www-data";
  const listenGroup = s.listenGroup ?? "www-data";
  const statusPath = s.statusPath ?? FPM_STATUS_PATH;
  const memoryLimitMb = s.memoryLimitMb ?? 128;
  const maxRequests = s.maxRequests ?? 500;
  const terminateSec = s.requestTerminateTimeoutSec ?? 60;

  for (const [v, what] of [[name, "poolName"], [user, "user"], [group, "group"], [listenOwner, "listenOwner"], [listenGroup, "listenGroup"]] as const) {
    assertName(v, what);
  }
  assertSafeAbsPath(socket, "listenSocket");
  assertUrlPath(statusPath, "statusPath");
  assertIntInRange(memoryLimitMb, 16, 4096, "memoryLimitMb");
  assertIntInRange(s.uploadMaxMb, 1, 4096, "uploadMaxMb");
  assertIntInRange(maxRequests, 0, 1_000_000, "maxRequests");
  assertIntInRange(terminateSec, 1, 3600, "requestTerminateTimeoutSec");
  if (s.appEnvPath !== undefined) assertSafeAbsPath(s.appEnvPath, "appEnvPath");
  const pm = computePmSizes(s.memoryMb, s.perChildMb, s.reservedMb);

  return [
    "; Managed by dns-rr-ha (components/app/phpFpmPool.ts). Local edits are overwritten.",
    `[${name}]`,
    `user = ${user}`,
    `group = ${group}`,
    `listen = ${socket}`,
    `listen.owner = ${listenOwner}`,
    `listen.group = ${listenGroup}`,
    "listen.mode = 0660",
    "",
    `; Sized for ${s.memoryMb} MiB RAM (see computePmSizes).`,
    "pm = dynamic",
    `pm.max_children = ${pm.maxChildren}`,
    `pm.start_servers = ${pm.startServers}`,
    `pm.min_spare_servers = ${pm.minSpareServers}`,
    `pm.max_spare_servers = ${pm.maxSpareServers}`,
    `pm.max_requests = ${maxRequests}`,
    "; Reachable only through nginx's on-box-only location.",
    `pm.status_path = ${statusPath}`,
    `request_terminate_timeout = ${terminateSec}s`,
    "",
    "; Worker stderr (PHP warnings such as memcached failover notices) goes to the FPM log.",
    "catch_workers_output = yes",
    "decorate_workers_output = no",
    "clear_env = yes",
    ...(s.appEnvPath !== undefined ? [`env[DNS_RR_HA_APP_ENV] = ${s.appEnvPath}`] : []),
    "security.limit_extensions = .php",
    "",
    "php_admin_flag[display_errors] = off",
    "php_admin_flag[log_errors] = on",
    "php_admin_flag[expose_php] = off",
    `php_admin_value[memory_limit] = ${memoryLimitMb}M`,
    "php_admin_flag[file_uploads] = on",
    `php_admin_value[upload_max_filesize] = ${s.uploadMaxMb}M`,
    // The multipart envelope adds a few bytes over the file itself.
    `php_admin_value[post_max_size] = ${s.uploadMaxMb + 1}M`,
    "",
  ].join("\n");
}
