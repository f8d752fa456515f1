/**
 * The Galera arbitrator (garbd, Debian's galera-arbitrator-4) on the witness droplet: a member of
 * the group that stores no data but votes, so two regions plus the witness make three votes and
 * the side of a partition that still reaches the witness keeps quorum (DURABILITY.md). Pure
 * renderers: garbd's command line and the systemd unit that runs it.
 */
import { isIPv4 } from "node:net";
import { galeraTimingProblems, GALERA_PORTS, type GaleraTiming, type MyCnfTls } from "./myCnf";

/** What the arbitrator needs to know. */
export interface GarbdSettings {
  /** The cluster's wsrep_cluster_name. */
  readonly clusterName: string;
  /** How it shows in the members' status. */
  readonly nodeName: string;
  /** Its own private address (it listens there only). */
  readonly listenAddress: string;
  /** Its group port (default {@link GALERA_PORTS}.group). */
  readonly port?: number;
  /** Its gmcast.segment: the witness region's slot, apart from every data node's. */
  readonly segment: number;
  /** Group addresses ("ip:port") of the data nodes. */
  readonly dataNodes: readonly string[];
  /** The same group timing as the data nodes. */
  readonly timing: GaleraTiming;
  /** TLS files (the cluster CA and a certificate for its address), as the data nodes use on the group channel. */
  readonly tls?: MyCnfTls;
}

/** Where the witness keeps the arbitrator's files. */
export const GARBD_PATHS = {
  unit: "/etc/systemd/system/dns-rr-ha-garbd.service",
  ca: "/etc/dns-rr-ha/garbd/ca.pem",
  cert: "/etc/dns-rr-ha/garbd/cert.pem",
  key: "/etc/dns-rr-ha/garbd/key.pem",
} as const;

/** The systemd service name of the arbitrator. */
export const GARBD_SERVICE = "dns-rr-ha-garbd.service";

const SAFE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SAFE_PATH = /^\/[A-Za-z0-9._/%-]+$/;

/** Problems of a {@link GarbdSettings}, none when it is usable. */
export function garbdProblems(s: GarbdSettings): string[] {
  const problems: string[] = [];
  if (!SAFE_NAME.test(s.clusterName)) problems.push(`clusterName must match ${SAFE_NAME} (got ${JSON.stringify(s.clusterName)})`);
  if (!SAFE_NAME.test(s.nodeName)) problems.push(`nodeName must match ${SAFE_NAME} (got ${JSON.stringify(s.nodeName)})`);
  if (!isIPv4(s.listenAddress)) problems.push(`listenAddress must be an IPv4 address (got ${JSON.stringify(s.listenAddress)})`);
  const port = s.port ?? GALERA_PORTS.group;
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`port must be 1..65535 (got ${port})`);
  if (!Number.isInteger(s.segment) || s.segment < 0 || s.segment > 255) problems.push(`segment must be 0..255 (got ${s.segment})`);
  if (s.dataNodes.length === 0) problems.push("dataNodes must list at least one data node's group address");
  for (const n of s.dataNodes) {
    const m = /^([0-9.]+):(\d{1,5})$/.exec(n);
    if (!m || !isIPv4(m[1]!) || Number(m[2]) < 1 || Number(m[2]) > 65535) problems.push(`dataNodes entry ${JSON.stringify(n)} must be "<IPv4>:<port>"`);
  }
  problems.push(...galeraTimingProblems("timing", s.timing));
  for (const key of ["ca", "cert", "key"] as const) {
    const p = s.tls?.[key];
    if (s.tls !== undefined && (p === undefined || !SAFE_PATH.test(p))) problems.push(`tls.${key} must be an absolute path (got ${JSON.stringify(p)})`);
  }
  return problems;
}

/** garbd's --options: the group settings it shares with the data nodes. */
function garbdOptions(s: GarbdSettings): string {
  const ms = (n: number) => `PT${n % 1000 === 0 ? n / 1000 : (n / 1000).toFixed(3)}S`;
  return [
    `gmcast.listen_addr=tcp://${s.listenAddress}:${s.port ?? GALERA_PORTS.group}`,
    `gmcast.segment=${s.segment}`,
    `evs.keepalive_period=${ms(s.timing.keepaliveMs)}`,
    `evs.suspect_timeout=${ms(s.timing.suspectMs)}`,
    `evs.inactive_timeout=${ms(s.timing.inactiveMs)}`,
    `evs.install_timeout=${ms(s.timing.installMs)}`,
    "evs.send_window=512",
    "evs.user_send_window=512",
    ...(s.tls ? [`socket.ssl_key=${s.tls.key}`, `socket.ssl_cert=${s.tls.cert}`, `socket.ssl_ca=${s.tls.ca}`] : []),
  ].join(";");
}

/**
 * garbd's arguments (without --log: it logs to stderr, i.e. the journal, by default).
 * @throws naming every problem of the settings.
 */
export function garbdArgs(s: GarbdSettings): string[] {
  const problems = garbdProblems(s);
  if (problems.length > 0) throw new Error(`invalid arbitrator settings:\n  - ${problems.join("\n  - ")}`);
  return ["--address", `gcomm://${s.dataNodes.join(",")}`, "--group", s.clusterName, "--name", s.nodeName, "--options", garbdOptions(s)];
}

/** systemd quoting of one ExecStart argument (double quotes; `%` doubled, `\` and `"` escaped). */
function systemdWord(word: string): string {
  return `"${word.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%")}"`;
}

/**
 * The arbitrator's systemd unit. It runs as a dynamic user with no home and a read-only system;
 * the TLS key (0600 root) reaches it as a systemd credential, never as a readable file.
 */
export function renderGarbdUnit(s: GarbdSettings): string {
  const tls = s.tls;
  // The key is handed over by systemd (LoadCredential) and read from the credentials directory (%d).
  const args = garbdArgs(tls ? { ...s, tls: { ...tls, key: "/CREDENTIAL-KEY" } } : s).map((a) => systemdWord(a).replace("/CREDENTIAL-KEY", "%d/key"));
  return [
    "# Managed by dns-rr-ha (components/db/arbitrator.ts): the Galera arbitrator, one vote, no data.",
    "[Unit]",
    "Description=dns-rr-ha Galera arbitrator (garbd)",
    "After=network-online.target",
    "Wants=network-online.target",
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    `ExecStart=/usr/bin/garbd ${args.join(" ")}`,
    // systemd expands specifiers in the path too: a `%` in it must be doubled as in ExecStart.
    ...(tls ? [`LoadCredential=key:${tls.key.replace(/%/g, "%%")}`] : []),
    "DynamicUser=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "NoNewPrivileges=yes",
    // garbd leaves the group cleanly on SIGINT; with SIGTERM it may not (Debian's unit does the same).
    "KillSignal=SIGINT",
    "Restart=always",
    "RestartSec=2",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
