/**
 * Pure renderer for /etc/haproxy/haproxy.cfg on a load-balancer droplet.
 *
 * One public HTTP frontend balances the app servers of ALL regions: servers of
 * the LB's own region take traffic, servers of other regions are `backup` and
 * (thanks to `option allbackups`) share the load only once every local server
 * is down. A second listener, bound only to the VPC address, serves the stats
 * page and the same health URI for private monitoring.
 */
import { DB_HEALTH_PATH } from "../app/paths";
import {
  assertAbsolutePath,
  assertHostname,
  assertIntInRange,
  assertIPv4,
  assertName,
  assertPort,
  fail,
} from "./validate";
import {
  haproxyTlsBindLines,
  haproxyTlsFrontendRuleLines,
  haproxyTlsGlobalLines,
  validateHaproxyTls,
  type HaproxyTlsSettings,
} from "./haproxyTls";

/** One app server (nginx + PHP-FPM) as seen by HAProxy. */
export interface HaproxyServer {
  /** Unique server name in the backend (shown in stats and logs); letters, digits, `.`, `_`, `-`. */
  readonly name: string;
  /** IPv4 address HAProxy connects to. */
  readonly address: string;
  /** HTTP port of the app server. */
  readonly port: number;
  /** Region slug of the server (e.g. `ams3`); informational, rendered as a comment. */
  readonly region: string;
  /** True for servers of other regions: they only take traffic when no local server is up. */
  readonly backup: boolean;
}

/** Timeouts in milliseconds; each has a default (see {@link HAPROXY_DEFAULTS}). */
export interface HaproxyTimeouts {
  /** TCP connect to an app server. */
  readonly connectMs?: number;
  /** Client inactivity. */
  readonly clientMs?: number;
  /** Server inactivity (also the wait for response headers; `response-timeout` retries on it). */
  readonly serverMs?: number;
  /** Extra read timeout of a health check once connected. */
  readonly checkMs?: number;
  /** Max time to receive a complete request head (slowloris guard). */
  readonly httpRequestMs?: number;
  /** Idle time allowed between two requests of a keep-alive client connection. */
  readonly httpKeepAliveMs?: number;
  /** Max time a request may wait in the queue for a free server slot. */
  readonly queueMs?: number;
}

/** Active health-check cadence of app servers. */
export interface HaproxyHealthCheck {
  /** Interval between checks of a server, in ms. */
  readonly intervalMs?: number;
  /** Consecutive failed checks before a server is marked DOWN. */
  readonly fall?: number;
  /** Consecutive successful checks before a server is marked UP again. */
  readonly rise?: number;
}

/** Settings of {@link renderHaproxyConfig}. Optional fields default to {@link HAPROXY_DEFAULTS}. */
export interface HaproxySettings {
  /** Host name of the site; sent as Host header by health checks. */
  readonly siteName: string;
  /** This LB's VPC (eth1) IPv4; the stats/health listener binds ONLY here. */
  readonly privateAddress: string;
  /** App servers of all regions; at least one must be non-backup. */
  readonly servers: readonly HaproxyServer[];
  /** Address the public frontend binds: `"*"` (default; the reserved IP is NATed to eth0) or an IPv4 (tests use 127.0.0.1). */
  readonly bindAddress?: string;
  /** Also listen on every IPv6 address (the reserved IPv6 sits on lo); only with bindAddress "*". */
  readonly ipv6?: boolean;
  /** Public HTTP port (default 80). */
  readonly httpPort?: number;
  /** Port of the private stats/health listener (default 8404). */
  readonly statsPort?: number;
  /**
   * Global and frontend connection limit (default 4096). HAProxy needs about
   * 2 file descriptors per connection and ~32 KiB of buffers per active one,
   * so size it to the droplet.
   */
  readonly maxconn?: number;
  /** Timeouts; unspecified ones take defaults. */
  readonly timeouts?: HaproxyTimeouts;
  /** Health URI of the app, must answer 200 (default `/healthz`). */
  readonly healthPath?: string;
  /** Health-check cadence; unspecified fields take defaults. */
  readonly healthCheck?: HaproxyHealthCheck;
  /** `"syslog"` (default: /dev/log, i.e. journald on Debian) or `"stdout"` (foreground runs, tests). */
  readonly log?: "syslog" | "stdout";
  /** Unprivileged account HAProxy drops to; `null` keeps the starting user (tests). */
  readonly runAs?: { readonly user: string; readonly group: string } | null;
  /** chroot directory; `null` disables (tests). */
  readonly chroot?: string | null;
  /** Path of the admin runtime socket; `null` disables. */
  readonly adminSocket?: string | null;
  /**
   * HTTPS on the public frontend (see haproxyTls.ts): TLS with Mozilla's
   * intermediate profile, HTTP -> HTTPS redirect except /lb-health, HSTS.
   * Absent: plain HTTP only, and the config is exactly as without TLS support.
   */
  readonly tls?: HaproxyTlsSettings;
}

/** Default values of the optional {@link HaproxySettings} fields. */
export const HAPROXY_DEFAULTS = {
  bindAddress: "*",
  httpPort: 80,
  statsPort: 8404,
  maxconn: 4096,
  healthPath: "/healthz",
  log: "syslog",
  runAs: { user: "haproxy", group: "haproxy" },
  chroot: "/var/lib/haproxy",
  adminSocket: "/run/haproxy/admin.sock",
  timeouts: {
    connectMs: 5000,
    clientMs: 30000,
    serverMs: 30000,
    checkMs: 2000,
    httpRequestMs: 10000,
    httpKeepAliveMs: 10000,
    queueMs: 30000,
  },
  healthCheck: { intervalMs: 2000, fall: 2, rise: 2 },
} as const;

/** Name of the app backend; `nbsrv(<this>)` drives /lb-health. */
export const HAPROXY_BACKEND = "app";

/** URI answered by HAProxy itself: 200 while at least one app server is up, else 503. */
export const LB_HEALTH_URI = "/lb-health";

/**
 * URI of the app servers' database health page ("/db-health", the app's nginx location, one
 * constant for both): routed to the app backend like any page, but, like {@link LB_HEALTH_URI},
 * never redirected to https, since the per-region uptime check probes it by the reserved IP.
 */
export const DB_HEALTH_URI = DB_HEALTH_PATH;

/** URI of the read-only stats page on the private listener. */
export const HAPROXY_STATS_URI = "/stats";

/** Input of {@link appServersForRegion}: an app server before its backup flag is decided. */
export type AppServerRef = Omit<HaproxyServer, "backup">;

/**
 * Marks servers outside `localRegion` as `backup`, local first, so an LB keeps
 * traffic in its own region while any local app server is healthy.
 */
export function appServersForRegion(localRegion: string, servers: readonly AppServerRef[]): HaproxyServer[] {
  const marked = servers.map((s) => ({ ...s, backup: s.region !== localRegion }));
  return [...marked.filter((s) => !s.backup), ...marked.filter((s) => s.backup)];
}

const MAX_TIMEOUT_MS = 24 * 3600 * 1000;

/**
 * Throws an Error naming the offending field if `s` cannot produce a working
 * config (no local server, duplicate/unsafe names, bad ports or addresses...).
 */
export function validateHaproxySettings(s: HaproxySettings): void {
  const f = "HaproxySettings";
  assertHostname(`${f}.siteName`, s.siteName);
  assertIPv4(`${f}.privateAddress`, s.privateAddress);
  if (s.bindAddress !== undefined && s.bindAddress !== "*") assertIPv4(`${f}.bindAddress`, s.bindAddress);
  if (s.ipv6 && (s.bindAddress ?? "*") !== "*") fail(`${f}.ipv6`, `needs ${f}.bindAddress "*" (got ${JSON.stringify(s.bindAddress)}): IPv6 listens on every address`);
  const httpPort = s.httpPort ?? HAPROXY_DEFAULTS.httpPort;
  const statsPort = s.statsPort ?? HAPROXY_DEFAULTS.statsPort;
  assertPort(`${f}.httpPort`, httpPort);
  assertPort(`${f}.statsPort`, statsPort);
  // The public frontend binds every address, including the private one.
  if (httpPort === statsPort) fail(`${f}.statsPort`, `must differ from httpPort (${httpPort})`);
  if (s.maxconn !== undefined) assertIntInRange(`${f}.maxconn`, s.maxconn, 1, 1_000_000);

  const healthPath = s.healthPath ?? HAPROXY_DEFAULTS.healthPath;
  if (typeof healthPath !== "string" || !/^\/[\x21-\x7e]*$/.test(healthPath)) {
    fail(`${f}.healthPath`, `must start with "/" and contain no spaces or control characters, got ${JSON.stringify(healthPath)}`);
  }
  if (healthPath === LB_HEALTH_URI) fail(`${f}.healthPath`, `must not be ${LB_HEALTH_URI} (answered by HAProxy itself)`);

  for (const [k, v] of Object.entries(s.timeouts ?? {})) {
    if (v !== undefined) assertIntInRange(`${f}.timeouts.${k}`, v, 1, MAX_TIMEOUT_MS);
  }
  const hc = s.healthCheck ?? {};
  if (hc.intervalMs !== undefined) assertIntInRange(`${f}.healthCheck.intervalMs`, hc.intervalMs, 100, 3_600_000);
  if (hc.fall !== undefined) assertIntInRange(`${f}.healthCheck.fall`, hc.fall, 1, 100);
  if (hc.rise !== undefined) assertIntInRange(`${f}.healthCheck.rise`, hc.rise, 1, 100);

  if (s.log !== undefined && s.log !== "syslog" && s.log !== "stdout") {
    fail(`${f}.log`, `must be "syslog" or "stdout", got ${JSON.stringify(s.log)}`);
  }
  if (s.runAs) {
    assertName(`${f}.runAs.user`, s.runAs.user);
    assertName(`${f}.runAs.group`, s.runAs.group);
  }
  if (s.chroot) assertAbsolutePath(`${f}.chroot`, s.chroot);
  if (s.adminSocket) assertAbsolutePath(`${f}.adminSocket`, s.adminSocket);
  if (s.tls !== undefined) validateHaproxyTls(`${f}.tls`, s.tls, { httpPort, statsPort });

  if (!Array.isArray(s.servers) || s.servers.length === 0) fail(`${f}.servers`, "must list at least one app server");
  const seen = new Set<string>();
  s.servers.forEach((srv, i) => {
    const p = `${f}.servers[${i}]`;
    assertName(`${p}.name`, srv.name);
    if (seen.has(srv.name)) fail(`${p}.name`, `duplicate server name ${JSON.stringify(srv.name)}`);
    seen.add(srv.name);
    assertIPv4(`${p}.address`, srv.address);
    assertPort(`${p}.port`, srv.port);
    assertName(`${p}.region`, srv.region);
    if (typeof srv.backup !== "boolean") fail(`${p}.backup`, "must be a boolean");
  });
  if (s.servers.every((srv) => srv.backup)) {
    fail(`${f}.servers`, "needs at least one non-backup (local-region) server");
  }
}

/** Renders haproxy.cfg (HAProxy 2.6 syntax). Validates first; throws on bad settings. */
export function renderHaproxyConfig(s: HaproxySettings): string {
  validateHaproxySettings(s);
  const d = HAPROXY_DEFAULTS;
  const t = { ...d.timeouts, ...s.timeouts };
  const hc = { ...d.healthCheck, ...s.healthCheck };
  const bind = s.bindAddress ?? d.bindAddress;
  const httpPort = s.httpPort ?? d.httpPort;
  const statsPort = s.statsPort ?? d.statsPort;
  const maxconn = s.maxconn ?? d.maxconn;
  const healthPath = s.healthPath ?? d.healthPath;
  const runAs = s.runAs === undefined ? d.runAs : s.runAs;
  const chroot = s.chroot === undefined ? d.chroot : s.chroot;
  const adminSocket = s.adminSocket === undefined ? d.adminSocket : s.adminSocket;
  const logLine = (s.log ?? d.log) === "stdout" ? "log stdout format raw local0" : "log /dev/log local0";
  const ms = (n: number): string => `${n}ms`;
  const nbsrvFail = `monitor fail if { nbsrv(${HAPROXY_BACKEND}) lt 1 }`;

  const lines: string[] = [
    "# Rendered by dns-rr-ha components/lb; do not edit by hand.",
    "global",
    `    ${logLine}`,
    `    maxconn ${maxconn}`,
    ...(chroot ? [`    chroot ${chroot}`] : []),
    ...(runAs ? [`    user ${runAs.user}`, `    group ${runAs.group}`] : []),
    ...(adminSocket ? [`    stats socket ${adminSocket} mode 660 level admin`, "    stats timeout 30s"] : []),
    ...(s.tls ? haproxyTlsGlobalLines(s.tls) : []),
    "",
    "defaults",
    "    mode http",
    "    log global",
    "    option httplog",
    "    option dontlognull",
    // HAProxy 2.6 keeps both sides keep-alive by default and reuses idle
    // server connections safely (http-reuse safe), so no http-server-close.
    `    timeout connect ${ms(t.connectMs)}`,
    `    timeout client ${ms(t.clientMs)}`,
    `    timeout server ${ms(t.serverMs)}`,
    `    timeout check ${ms(t.checkMs)}`,
    `    timeout http-request ${ms(t.httpRequestMs)}`,
    `    timeout http-keep-alive ${ms(t.httpKeepAliveMs)}`,
    `    timeout queue ${ms(t.queueMs)}`,
    "",
    "frontend public",
    `    bind ${bind}:${httpPort}`,
    ...(s.ipv6 ? [`    bind :::${httpPort} v6only`] : []),
    ...(s.tls ? haproxyTlsBindLines(s.tls, bind, s.ipv6 === true) : []),
    `    maxconn ${maxconn}`,
    // Answered by HAProxy itself: DNS health probes and keepalived's check
    // use it, so it must go 503 when this LB cannot reach any app server.
    `    monitor-uri ${LB_HEALTH_URI}`,
    `    ${nbsrvFail}`,
    // /db-health stays plain too: the per-region uptime check probes it by the reserved IP.
    ...(s.tls ? haproxyTlsFrontendRuleLines(s.tls, [LB_HEALTH_URI, DB_HEALTH_URI]) : []),
    // This LB is the edge: client-supplied forwarding headers are lies.
    "    http-request del-header X-Forwarded-For",
    "    http-request set-header X-Forwarded-Proto https if { ssl_fc }",
    "    http-request set-header X-Forwarded-Proto http if !{ ssl_fc }",
    "    option forwardfor",
    `    default_backend ${HAPROXY_BACKEND}`,
    "",
    `backend ${HAPROXY_BACKEND}`,
    "    balance roundrobin",
    // Remote-region backups all share the load once every local server is down.
    "    option allbackups",
    `    option httpchk GET ${healthPath} HTTP/1.1`,
    `    http-check send hdr Host ${s.siteName}`,
    "    http-check expect status 200",
    "    retries 3",
    // Redispatch on every retry (not only the last): sessions live in
    // memcached, so any server will do, and retrying another server skips the
    // 1 s turn-around delay HAProxy applies before retrying the same one.
    "    option redispatch 1",
    // 502/503/504 too: a server shutting down (nginx up, PHP-FPM already gone) answers 502
    // to a request another server would have served (measured in the lab).
    "    retry-on conn-failure empty-response response-timeout 502 503 504",
    // A request that reached a server may have had side effects: only
    // idempotent methods are replayed. Connection failures (request never
    // sent) stay retryable for every method.
    "    http-request disable-l7-retry if !METH_GET !METH_OPTIONS",
    `    default-server inter ${ms(hc.intervalMs)} fastinter ${ms(Math.max(100, Math.floor(hc.intervalMs / 2)))} downinter ${ms(hc.intervalMs)} fall ${hc.fall} rise ${hc.rise}`,
    ...s.servers.map(
      (srv) => `    server ${srv.name} ${srv.address}:${srv.port} check${srv.backup ? " backup" : ""}  # region ${srv.region}`,
    ),
    "",
    "listen stats",
    // VPC address only: stats leak topology and must not be public.
    `    bind ${s.privateAddress}:${statsPort}`,
    "    stats enable",
    `    stats uri ${HAPROXY_STATS_URI}`,
    "    stats refresh 10s",
    "    stats hide-version",
    `    monitor-uri ${LB_HEALTH_URI}`,
    `    ${nbsrvFail}`,
    "",
  ];
  return lines.join("\n");
}
