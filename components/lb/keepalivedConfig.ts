/**
 * Pure renderer for /etc/keepalived/keepalived.conf on a region with two LBs.
 *
 * The reserved IP lives at DigitalOcean, not on an interface: VRRP only elects
 * which LB is MASTER, and the `notify_master` script moves the reserved IP
 * through the DO API. keepalived still insists on one `virtual_ipaddress`
 * (VRRPv3 instances without one are dropped at load), so the MASTER holds a
 * link-local /32 "state marker" on `lo`: harmless, never routed, and it shows
 * which node is MASTER (`ip -4 addr show dev lo`).
 *
 * Authentication: VRRPv2 `auth_type PASS` sends the password in clear and AH
 * is deprecated, so neither adds real security. We run VRRPv3 (no auth field)
 * over unicast on the private VPC (not reachable from the internet) and make
 * keepalived drop adverts whose source is not the configured peer
 * (`check_unicast_src`). A forged advert could at worst make both LBs claim
 * the IP; the takeover is idempotent and the last assignment wins.
 */
import { lbScriptPaths } from "./scriptPaths";
import { assertAbsolutePath, assertIntInRange, assertIPv4, assertName, assertPort, fail } from "./validate";

/** Settings of {@link renderKeepalivedConfig}. */
export interface KeepalivedSettings {
  /** Identifies this node in keepalived logs (e.g. the droplet name). */
  readonly routerId: string;
  /** VRRP router id shared by the two LBs of the region, 1..255; unique per VPC. */
  readonly virtualRouterId: number;
  /** VRRP priority 1..254 (255 is reserved for an address owner); give the two LBs different values. */
  readonly priority: number;
  /** This LB's VPC IPv4 (unicast source of adverts). */
  readonly privateAddress: string;
  /** The other LB's VPC IPv4. */
  readonly peerAddress: string;
  /** The region's DigitalOcean reserved IP, passed to the takeover script. */
  readonly reservedIp: string;
  /** Interface carrying the VPC network (default `eth1`). */
  readonly interface?: string;
  /** Public HTTP port of HAProxy, passed to the check script (default 80). */
  readonly haproxyPort?: number;
  /** Health-check script path (default {@link lbScriptPaths}.checkHaproxy). */
  readonly checkScriptPath?: string;
  /** Takeover script path (default {@link lbScriptPaths}.reservedIpTakeover). */
  readonly takeoverScriptPath?: string;
  /** Link-local IPv4 the MASTER adds to `lo` (default {@link stateMarkerAddress}(virtualRouterId)). */
  readonly stateMarkerAddress?: string;
}

/**
 * Default state-marker address: 169.254.254.<vrid>, outside the ranges RFC 3927
 * reserves (169.254.0.0/24, 169.254.255.0/24) and away from DO's metadata
 * address 169.254.169.254; equal on both LBs so their adverts match.
 */
export function stateMarkerAddress(virtualRouterId: number): string {
  return `169.254.254.${virtualRouterId}`;
}

/** Default values of the optional {@link KeepalivedSettings} fields. */
export const KEEPALIVED_DEFAULTS = {
  interface: "eth1",
  haproxyPort: 80,
  checkScriptPath: lbScriptPaths.checkHaproxy,
  takeoverScriptPath: lbScriptPaths.reservedIpTakeover,
} as const;

/** Throws an Error naming the offending field if `s` is unusable. */
export function validateKeepalivedSettings(s: KeepalivedSettings): void {
  const f = "KeepalivedSettings";
  assertName(`${f}.routerId`, s.routerId);
  assertIntInRange(`${f}.virtualRouterId`, s.virtualRouterId, 1, 255);
  assertIntInRange(`${f}.priority`, s.priority, 1, 254);
  assertIPv4(`${f}.privateAddress`, s.privateAddress);
  assertIPv4(`${f}.peerAddress`, s.peerAddress);
  if (s.peerAddress === s.privateAddress) {
    fail(`${f}.peerAddress`, `must differ from privateAddress (${s.privateAddress})`);
  }
  assertIPv4(`${f}.reservedIp`, s.reservedIp);
  if (s.reservedIp === s.privateAddress || s.reservedIp === s.peerAddress) {
    fail(`${f}.reservedIp`, "must not be one of the LBs' private addresses");
  }
  if (s.interface !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(s.interface)) {
    fail(`${f}.interface`, `must be a Linux interface name (1-15 chars), got ${JSON.stringify(s.interface)}`);
  }
  if (s.haproxyPort !== undefined) assertPort(`${f}.haproxyPort`, s.haproxyPort);
  if (s.checkScriptPath !== undefined) assertAbsolutePath(`${f}.checkScriptPath`, s.checkScriptPath);
  if (s.takeoverScriptPath !== undefined) assertAbsolutePath(`${f}.takeoverScriptPath`, s.takeoverScriptPath);
  if (s.stateMarkerAddress !== undefined) {
    assertIPv4(`${f}.stateMarkerAddress`, s.stateMarkerAddress);
    if (!s.stateMarkerAddress.startsWith("169.254.")) {
      fail(`${f}.stateMarkerAddress`, `must be link-local (169.254.0.0/16), got ${JSON.stringify(s.stateMarkerAddress)}`);
    }
  }
}

/** Renders keepalived.conf (keepalived 2.2 syntax). Validates first; throws on bad settings. */
export function renderKeepalivedConfig(s: KeepalivedSettings): string {
  validateKeepalivedSettings(s);
  const d = KEEPALIVED_DEFAULTS;
  const iface = s.interface ?? d.interface;
  const check = `${s.checkScriptPath ?? d.checkScriptPath} ${s.haproxyPort ?? d.haproxyPort}`;
  const takeover = `${s.takeoverScriptPath ?? d.takeoverScriptPath} ${s.reservedIp}`;
  const marker = s.stateMarkerAddress ?? stateMarkerAddress(s.virtualRouterId);
  return [
    "# Rendered by dns-rr-ha components/lb; do not edit by hand.",
    "global_defs {",
    `    router_id ${s.routerId}`,
    // Scripts run as root (the takeover reads a root-only token) and are
    // refused if any path component is writable by another user.
    "    enable_script_security",
    "    script_user root",
    "    vrrp_version 3",
    // Let keepalived raise itself to realtime scheduling if it is starved
    // (busy HAProxy): late adverts would make the peer steal the IP.
    "    max_auto_priority",
    "}",
    "",
    "vrrp_script chk_haproxy {",
    `    script "${check}"`,
    "    interval 1",
    "    timeout 2",
    "    fall 2",
    "    rise 2",
    // weight 0: a failing check puts the instance in FAULT (stops adverts) so
    // the peer takes over outright; no priority arithmetic to get wrong.
    "    weight 0",
    "}",
    "",
    "vrrp_instance lb {",
    // Both nodes start BACKUP with nopreempt: a recovered node does not grab
    // the reserved IP back, which would mean a needless DO API move.
    "    state BACKUP",
    "    nopreempt",
    `    interface ${iface}`,
    `    virtual_router_id ${s.virtualRouterId}`,
    `    priority ${s.priority}`,
    "    advert_int 1",
    `    unicast_src_ip ${s.privateAddress}`,
    "    unicast_peer {",
    `        ${s.peerAddress}`,
    "    }",
    "    check_unicast_src",
    "    unicast_fault_no_peer",
    "    track_script {",
    "        chk_haproxy",
    "    }",
    "    virtual_ipaddress {",
    `        ${marker}/32 dev lo scope host`,
    "    }",
    `    notify_master "${takeover}"`,
    "}",
    "",
  ].join("\n");
}
