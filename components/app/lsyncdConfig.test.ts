import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { renderLsyncdConfig, renderLsyncdUnit, renderSyncAuthorizedKey, syncSshCommand, LsyncdSettings } from "./lsyncdConfig";
import { makeTempDir, removeTempDir, run, sleep, startProcess, waitFor, Proc } from "./testing/processes";

const base: LsyncdSettings = {
  sourceDir: "/var/www/dns-rr-ha/shared/uploads",
  peers: [
    { name: "app-nyc3-2", address: "10.10.0.6" },
    { name: "app-ams3-1", address: "10.20.0.5" },
  ],
  sshKeyPath: "/home/dnsrrha-sync/.ssh/id_ed25519",
  user: "dnsrrha-sync",
};
const PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9yZmFrZWtleWZvcnRlc3RzMDEyMzQ1Njc4OWFi test@host";

/** `luac -p`: the config is Lua; lsyncd links liblua5.3, the same version as luac. */
function luaSyntaxOk(text: string): { ok: boolean; output: string } {
  const r = run("luac", ["-p", "-"], { input: text });
  return { ok: r.status === 0, output: r.stderr };
}

describe("renderLsyncdConfig: text", () => {
  test("is valid Lua with one rsync sync per peer, never deleting", () => {
    const text = renderLsyncdConfig(base);
    const r = luaSyntaxOk(text);
    assert.ok(r.ok, r.output);
    assert.equal(text.match(/default\.rsync,/g)?.length, 2);
    assert.match(text, /target = "dnsrrha-sync@10\.10\.0\.6:\/var\/www\/dns-rr-ha\/shared\/uploads\/"/);
    assert.match(text, /target = "dnsrrha-sync@10\.20\.0\.5:\/var\/www\/dns-rr-ha\/shared\/uploads\/"/);
    assert.equal(text.match(/delete = false,/g)?.length, 2);
    assert.doesNotMatch(text, /delete = true/);
    assert.ok(luaSyntaxOk(renderLsyncdConfig({ ...base, peers: [] })).ok);
  });

  test("luac -p rejects a broken config (guards the check above)", () => {
    assert.equal(luaSyntaxOk(renderLsyncdConfig(base).replace("delete = false,", "delete = false")).ok, false);
  });

  test("ssh command pins key, batch mode and host key policy", () => {
    assert.equal(
      syncSshCommand({ sshKeyPath: "/k", sshPort: 2222, knownHostsPath: "/etc/dns-rr-ha/known_hosts" }),
      "/usr/bin/ssh -p 2222 -i /k -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 -o ServerAliveCountMax=3 -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/dns-rr-ha/known_hosts",
    );
    assert.match(syncSshCommand({ sshKeyPath: "/k" }), /StrictHostKeyChecking=accept-new$/);
  });

  test("refuses values that would inject Lua", () => {
    assert.throws(() => renderLsyncdConfig({ ...base, peers: [{ name: "x", address: 'a", delete = true, x="' }] }), /address/);
    assert.throws(() => renderLsyncdConfig({ ...base, peers: [{ name: "a b", address: "10.0.0.1" }] }), /name/);
    assert.throws(() => renderLsyncdConfig({ ...base, sourceDir: "/up\"loads" }), /sourceDir/);
    assert.throws(() => renderLsyncdConfig({ ...base, rsh: 'ssh", x = "' }), /rsh/);
    assert.throws(() => renderLsyncdConfig({ ...base, peers: [base.peers[0]!, base.peers[0]!] }), /duplicate/);
  });

  test("authorized_keys line restricts the key to rsync in the uploads dir without deletes", () => {
    const line = renderSyncAuthorizedKey({ publicKey: PUBKEY, fromCidrs: ["10.10.0.0/20", "10.20.0.0/20"] });
    assert.equal(
      line,
      'restrict,from="10.10.0.0/20,10.20.0.0/20",command="/usr/bin/rrsync -absolute -no-del -no-lock /var/www/dns-rr-ha/shared/uploads" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9yZmFrZWtleWZvcnRlc3RzMDEyMzQ1Njc4OWFi dnsrrha-sync\n',
    );
    assert.throws(() => renderSyncAuthorizedKey({ publicKey: 'ssh-ed25519 AAAA" ,command="sh' }), /publicKey/);
    assert.throws(() => renderSyncAuthorizedKey({ publicKey: PUBKEY, fromCidrs: ['10.0.0.0/8",x="'] }), /fromCidrs/);
  });

  test("systemd unit passes systemd-analyze verify", () => {
    const dir = makeTempDir("dnsrrha-unit");
    try {
      const good = path.join(dir, "dns-rr-ha-lsyncd.service");
      fs.writeFileSync(good, renderLsyncdUnit());
      const r = run("systemd-analyze", ["verify", good]);
      assert.equal(r.status, 0, r.stderr);
      // Only what it says about this unit: it also loads the host's own units (e.g. Debian's garb.service, which warns about User=nobody).
      const about = (out: string, unit: string) => out.split("\n").filter((l) => l.includes(unit)).join("\n");
      assert.equal(about(r.stderr, good), "", "no warnings");
      const bad = path.join(dir, "bad.service");
      fs.writeFileSync(bad, renderLsyncdUnit().replace("Restart=always", "Restart=sometimes"));
      assert.notEqual(about(run("systemd-analyze", ["verify", bad]).stderr, bad), "", "verify notices a bad key (guards the check above)");
    } finally {
      removeTempDir(dir);
    }
  });
});

/**
 * A fake remote shell: instead of ssh'ing to "host" it runs what sshd would
 * run for the restricted key (renderSyncAuthorizedKey's command) as the
 * unprivileged www-data, logging each connection.
 */
function writeFakeRsh(dir: string, name: string, targetDir: string): string {
  const rsh = path.join(dir, `${name}.sh`);
  const command = /command="([^"]+)"/.exec(renderSyncAuthorizedKey({ publicKey: PUBKEY, uploadsDir: targetDir }))?.[1];
  assert.ok(command);
  fs.writeFileSync(
    rsh,
    [
      "#!/bin/bash",
      "set -euo pipefail",
      'if [ "$1" = "-l" ]; then shift 2; fi',
      "shift",
      `echo "$*" >> ${dir}/${name}.log`,
      'export SSH_ORIGINAL_COMMAND="$*"',
      `exec setpriv --reuid=www-data --regid=www-data --init-groups ${command}`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return rsh;
}

/** Creates an uploads-like dir owned by www-data, setgid, like the bootstrap does. */
function uploadsDir(dir: string, name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  run("chown", ["www-data:www-data", d]);
  fs.chmodSync(d, 0o2775);
  return d;
}

function startLsyncd(dir: string, name: string, sourceDir: string, targetDir: string, rsh: string): Proc {
  const conf = path.join(dir, `${name}.lua`);
  fs.writeFileSync(
    conf,
    renderLsyncdConfig({ sourceDir, targetDir, peers: [{ name: "peer", address: "peer.invalid" }], sshKeyPath: "/nonexistent", user: "dnsrrha-sync", rsh, statusFile: path.join(dir, `${name}.status`), delaySec: 0 }),
  );
  return startProcess("lsyncd", ["-nodaemon", conf], path.join(dir, `${name}.out`));
}

const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined);
const lines = (f: string) => (read(f) ?? "").split("\n").filter((l) => l !== "").length;

describe("renderLsyncdConfig: real lsyncd -> rsync -> rrsync as an unprivileged receiver", () => {
  test("pushes existing and new files, never deletes, skips dotfiles and symlinks", async () => {
    const dir = makeTempDir("dnsrrha-lsyncd");
    let lsyncd: Proc | undefined;
    try {
      const src = uploadsDir(dir, "src");
      const dst = uploadsDir(dir, "dst");
      fs.writeFileSync(path.join(src, "before.txt"), "existed at start\n");
      fs.writeFileSync(path.join(dst, "only-on-peer.txt"), "peer's own file\n");
      // A temp file left behind by a crashed upload must stay local.
      fs.writeFileSync(path.join(src, ".upload-crashed"), "partial");
      lsyncd = startLsyncd(dir, "a", src, dst, writeFakeRsh(dir, "rsh-a", dst));
      const out = () => `${read(path.join(dir, "a.out"))}`;
      await waitFor("startup sync", () => fs.existsSync(path.join(dst, "before.txt")) || lsyncd!.exited());
      assert.equal(read(path.join(dst, "before.txt")), "existed at start\n", out());

      fs.writeFileSync(path.join(src, "new.txt"), "new upload\n");
      // upload.php's pattern: write a dot-temp name, then rename into place.
      fs.writeFileSync(path.join(src, ".upload-1234"), "atomic\n");
      fs.renameSync(path.join(src, ".upload-1234"), path.join(src, "atomic.txt"));
      fs.symlinkSync("/etc/passwd", path.join(src, "link"));
      fs.writeFileSync(path.join(src, ".in-flight"), "partial");
      await waitFor("new files", () => fs.existsSync(path.join(dst, "new.txt")) && fs.existsSync(path.join(dst, "atomic.txt")));
      assert.equal(read(path.join(dst, "atomic.txt")), "atomic\n");
      assert.equal(fs.statSync(path.join(dst, "new.txt")).mode & 0o777, 0o664);

      fs.unlinkSync(path.join(src, "new.txt"));
      fs.writeFileSync(path.join(src, "marker.txt"), "after delete\n");
      await waitFor("marker", () => fs.existsSync(path.join(dst, "marker.txt")));
      assert.ok(fs.existsSync(path.join(dst, "new.txt")), "delete does not propagate");
      assert.ok(fs.existsSync(path.join(dst, "only-on-peer.txt")), "peer's own files are kept");
      assert.deepEqual(fs.readdirSync(dst).filter((n) => n.startsWith(".")), [], "no dotfiles arrive");
      assert.equal(fs.existsSync(path.join(dst, "link")), false, "symlinks are not copied");
      assert.doesNotMatch(out(), /exitcode: [1-9]|error/i);
    } finally {
      await lsyncd?.stop();
      removeTempDir(dir);
    }
  });

  test("two servers pushing to each other converge, without ping-pong, newest mtime winning", async () => {
    const dir = makeTempDir("dnsrrha-lsyncd-mesh");
    const procs: Proc[] = [];
    try {
      const a = uploadsDir(dir, "a");
      const b = uploadsDir(dir, "b");
      // Same name written on both before the sync starts: b's copy is newer.
      fs.writeFileSync(path.join(a, "same.txt"), "old from a\n");
      fs.utimesSync(path.join(a, "same.txt"), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      fs.writeFileSync(path.join(b, "same.txt"), "new from b\n");
      procs.push(startLsyncd(dir, "a", a, b, writeFakeRsh(dir, "a-to-b", b)));
      procs.push(startLsyncd(dir, "b", b, a, writeFakeRsh(dir, "b-to-a", a)));

      fs.writeFileSync(path.join(a, "from-a.txt"), "A\n");
      fs.writeFileSync(path.join(b, "from-b.txt"), "B\n");
      await waitFor("mesh sync", () => fs.existsSync(path.join(b, "from-a.txt")) && fs.existsSync(path.join(a, "from-b.txt")));
      await waitFor("conflict converges", () => read(path.join(a, "same.txt")) === "new from b\n", 5000);
      assert.equal(read(path.join(b, "same.txt")), "new from b\n");

      // Each arrival triggers one echo push back (a no-op transfer); then it must stop.
      await sleep(1500);
      const settled = lines(path.join(dir, "a-to-b.log")) + lines(path.join(dir, "b-to-a.log"));
      await sleep(2500);
      assert.equal(lines(path.join(dir, "a-to-b.log")) + lines(path.join(dir, "b-to-a.log")), settled, "no endless echo");
      assert.ok(settled < 12, `few transfers: ${settled}`);
      assert.deepEqual(fs.readdirSync(a).sort(), ["from-a.txt", "from-b.txt", "same.txt"]);
      assert.deepEqual(fs.readdirSync(b).sort(), ["from-a.txt", "from-b.txt", "same.txt"]);
    } finally {
      for (const p of procs) await p.stop();
      removeTempDir(dir);
    }
  });
});
