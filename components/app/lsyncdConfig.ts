import { APP_CONFIG_PATHS, APP_UPLOADS_DIR, SYNC_USER } from "./paths";
import { assertHost, assertIPv4Cidr, assertIntInRange, assertName, assertPort, assertSafeAbsPath } from "./validation";

/** Another app server that receives this server's uploads. */
export interface LsyncdPeer {
  /** Label used in comments/logs, e.g. the droplet name. */
  name: string;
  /** Private (VPC) address of the peer. */
  address: string;
}

/** Settings for one app server's lsyncd: push its uploads dir to every peer. */
export interface LsyncdSettings {
  /** Local uploads dir to watch. */
  sourceDir: string;
  /** Every OTHER app server (all regions). */
  peers: LsyncdPeer[];
  /** Private key used to log in to peers as `user`. */
  sshKeyPath: string;
  /** Remote account on the peers (restricted by rrsync, see renderSyncAuthorizedKey). */
  user: string;
  /** Dir on the peers. Default: same as `sourceDir` (all app servers share the layout). */
  targetDir?: string;
  /** ssh port of the peers. Default 22. */
  sshPort?: number;
  /**
   * known_hosts holding the peers' host keys. When set, unknown or changed host
   * keys are refused; otherwise the first key seen is trusted (accept-new).
   */
  knownHostsPath?: string;
  /** Seconds lsyncd aggregates events before running rsync. Default 1. */
  delaySec?: number;
  /** lsyncd status file. Default `/run/dns-rr-ha-lsyncd/status`. */
  statusFile?: string;
  /**
   * Full remote-shell command given to rsync as `--rsh`, replacing the ssh
   * command built from the fields above (another transport, or tests).
   */
  rsh?: string;
}

/** Builds the ssh command rsync uses to reach peers. */
export function syncSshCommand(s: Pick<LsyncdSettings, "sshKeyPath" | "sshPort" | "knownHostsPath">): string {
  const port = s.sshPort ?? 22;
  assertSafeAbsPath(s.sshKeyPath, "sshKeyPath");
  assertPort(port, "sshPort");
  const hostKeys =
    s.knownHostsPath === undefined
      ? ["-o StrictHostKeyChecking=accept-new"]
      : (assertSafeAbsPath(s.knownHostsPath, "knownHostsPath"),
        ["-o StrictHostKeyChecking=yes", `-o UserKnownHostsFile=${s.knownHostsPath}`]);
  return [
    "/usr/bin/ssh",
    `-p ${port}`,
    `-i ${s.sshKeyPath}`,
    "-o IdentitiesOnly=yes",
    // Never prompt: lsyncd has no terminal; a prompt would hang the transfer.
    "-o BatchMode=yes",
    "-o ConnectTimeout=10",
    "-o ServerAliveInterval=15",
    "-o ServerAliveCountMax=3",
    ...hostKeys,
  ].join(" ");
}

/**
 * Renders `/etc/lsyncd/dns-rr-ha-uploads.conf.lua`: one `default.rsync` sync
 * per peer, so every app server pushes its new uploads to every other one
 * (lsyncd is one-way; running it everywhere makes the mesh). See UPLOADS.md
 * for what this does and does not guarantee.
 */
export function renderLsyncdConfig(s: LsyncdSettings): string {
  const targetDir = s.targetDir ?? s.sourceDir;
  const delay = s.delaySec ?? 1;
  const statusFile = s.statusFile ?? "/run/dns-rr-ha-lsyncd/status";
  assertSafeAbsPath(s.sourceDir, "sourceDir");
  assertSafeAbsPath(targetDir, "targetDir");
  assertSafeAbsPath(statusFile, "statusFile");
  assertName(s.user, "user");
  assertIntInRange(delay, 0, 3600, "delaySec");
  const rsh = s.rsh ?? syncSshCommand(s);
  if (!/^[A-Za-z0-9 ._\/=@:+-]+$/.test(rsh)) throw new Error(`rsh: unsafe characters: ${JSON.stringify(rsh)}`);
  const names = new Set<string>();
  s.peers.forEach((p, i) => {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(p.name)) throw new Error(`peers[${i}].name: invalid: ${JSON.stringify(p.name)}`);
    assertHost(p.address, `peers[${i}].address`);
    if (names.has(p.address)) throw new Error(`peers[${i}].address: duplicate ${p.address}`);
    names.add(p.address);
  });

  const slash = (d: string) => (d.endsWith("/") ? d : `${d}/`);
  const syncs = s.peers.map((p) =>
    [
      `-- peer ${p.name}`,
      "sync {",
      "    default.rsync,",
      `    source = "${slash(s.sourceDir)}",`,
      `    target = "${s.user}@${p.address}:${slash(targetDir)}",`,
      // Never delete on peers: a file that is new here but not yet there (or the
      // echo of a peer's upload) must not be able to remove anything.
      "    delete = false,",
      `    delay = ${delay},`,
      // Dotfiles are in-flight temp files (upload.php's, rsync's own on receipt).
      '    exclude = { ".*" },',
      "    rsync = {",
      `        rsh = "${rsh}",`,
      "        perms = true,",
      "        times = true,",
      // Files land group-writable for www-data whoever wrote them (dir is setgid www-data).
      '        chmod = "D2775,F664",',
      // Newer mtime wins; also makes echoes and simultaneous same-name uploads converge.
      "        update = true,",
      // Symlinks are never uploads; skipping them keeps a link from leaking a file.
      "        links = false,",
      "        omit_dir_times = true,",
      // rrsync refuses -s; file names travel over stdin, not through a shell, anyway.
      "        protect_args = false,",
      "        compress = true,",
      "        timeout = 60,",
      "    },",
      "}",
    ].join("\n"),
  );

  return [
    "-- Managed by dns-rr-ha (components/app/lsyncdConfig.ts). Local edits are overwritten.",
    "settings {",
    // Keep retrying peers that are down at startup instead of exiting.
    "    insist = true,",
    `    statusFile = "${statusFile}",`,
    "    statusInterval = 30,",
    "}",
    "",
    ...(s.peers.length === 0 ? ["-- No peers (single app server): nothing to push."] : syncs),
    "",
  ].join("\n");
}

/** Settings for the `authorized_keys` entry of the sync user on every app server. */
export interface SyncAuthorizedKeySettings {
  /** OpenSSH public key line of the shared sync key (`ssh-ed25519 AAAA... [comment]`). */
  publicKey: string;
  /** The only dir the key may touch. Default `/var/www/dns-rr-ha/shared/uploads`. */
  uploadsDir?: string;
  /** Source networks allowed to use the key (the VPCs). Default: any. */
  fromCidrs?: string[];
}

/**
 * Renders the `authorized_keys` line for the sync user: the key can only run
 * rsync inside the uploads dir (rrsync), cannot delete (`-no-del`), gets no
 * pty/forwarding (`restrict`), and optionally only from the VPC networks.
 * `-absolute` lets peers use the real path, so the same lsyncd target works
 * with or without the restriction; `-no-lock` because several peers push at once.
 */
export function renderSyncAuthorizedKey(s: SyncAuthorizedKeySettings): string {
  const dir = s.uploadsDir ?? APP_UPLOADS_DIR;
  assertSafeAbsPath(dir, "uploadsDir");
  const m = /^(ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa) ([A-Za-z0-9+/]+={0,3})(?: .*)?$/.exec(s.publicKey.trim());
  if (m === null) throw new Error("publicKey: not an OpenSSH public key line");
  const opts = ["restrict"];
  if (s.fromCidrs !== undefined && s.fromCidrs.length > 0) {
    s.fromCidrs.forEach((c, i) => assertIPv4Cidr(c, `fromCidrs[${i}]`));
    opts.push(`from="${s.fromCidrs.join(",")}"`);
  }
  opts.push(`command="/usr/bin/rrsync -absolute -no-del -no-lock ${dir}"`);
  return `${opts.join(",")} ${m[1]} ${m[2]} ${SYNC_USER}\n`;
}

/** Settings for the systemd unit running lsyncd. */
export interface LsyncdUnitSettings {
  /** Config file. Default `/etc/lsyncd/dns-rr-ha-uploads.conf.lua`. */
  configPath?: string;
  /** Account lsyncd runs as (needs read access to the uploads and the ssh key). Default `dnsrrha-sync`. */
  user?: string;
  /** Group (the uploads dir's group). Default `www-data`. */
  group?: string;
}

/**
 * Renders `dns-rr-ha-lsyncd.service`. Debian ships lsyncd with only a SysV
 * script (no restart on crash, runs as root); this unit runs it unprivileged
 * in the foreground and restarts it, and each restart's initial full sync
 * re-pushes anything a peer missed.
 */
export function renderLsyncdUnit(s: LsyncdUnitSettings = {}): string {
  const configPath = s.configPath ?? APP_CONFIG_PATHS.lsyncdConfig;
  const user = s.user ?? SYNC_USER;
  const group = s.group ?? "www-data";
  assertSafeAbsPath(configPath, "configPath");
  assertName(user, "user");
  assertName(group, "group");
  return [
    "# Managed by dns-rr-ha (components/app/lsyncdConfig.ts).",
    "[Unit]",
    "Description=dns-rr-ha uploads sync to peer app servers (lsyncd)",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `User=${user}`,
    `Group=${group}`,
    "UMask=0002",
    "RuntimeDirectory=dns-rr-ha-lsyncd",
    `ExecStart=/usr/bin/lsyncd -nodaemon ${configPath}`,
    "Restart=always",
    "RestartSec=5",
    "NoNewPrivileges=yes",
    "ProtectSystem=full",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
