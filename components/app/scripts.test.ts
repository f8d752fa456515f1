import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { appBootstrapScript, APP_SCRIPTS_DIR } from "./scripts";
import { makeTempDir, removeTempDir, run } from "./testing/processes";

const SCRIPT = path.join(APP_SCRIPTS_DIR, "app-bootstrap.sh");

describe("droplet scripts: static checks", () => {
  test("every script passes shellcheck and uses strict mode", () => {
    const scripts = fs.readdirSync(APP_SCRIPTS_DIR).filter((f) => f.endsWith(".sh"));
    assert.ok(scripts.includes("app-bootstrap.sh"));
    for (const s of scripts) {
      const file = path.join(APP_SCRIPTS_DIR, s);
      const r = run("shellcheck", ["-x", file]);
      assert.equal(r.status, 0, `${s}:\n${r.stdout}${r.stderr}`);
      const text = fs.readFileSync(file, "utf8");
      assert.ok(text.startsWith("#!/bin/bash\n"), s);
      assert.match(text, /^set -euo pipefail$/m, s);
    }
    assert.equal(appBootstrapScript(), fs.readFileSync(SCRIPT, "utf8"));
  });

  test("shellcheck flags a planted bug (guards the check above)", () => {
    const r = run("shellcheck", ["-"], { input: `${appBootstrapScript()}\nrm -rf $ROOT/$UNSET_THING\n` });
    assert.notEqual(r.status, 0);
  });
});

/**
 * Runs app-bootstrap.sh against a temp root with the system commands it calls
 * (systemctl, nginx, php-fpm, useradd, chown, runuser, ...) replaced by stubs
 * that log their arguments, so the file changes and the order of checks and
 * reloads can be asserted without touching the host.
 */
function sandbox(opts: { failNginxTest?: boolean; failPullFrom?: string; noIndex?: boolean } = {}) {
  const dir = makeTempDir("dnsrrha-bootstrap");
  const root = path.join(dir, "root");
  const stubs = path.join(dir, "stubs");
  const calls = path.join(dir, "calls.log");
  const w = (rel: string, text: string, mode = 0o644) => {
    const f = path.join(root, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, text, { mode });
  };
  w("etc/nginx/sites-available/dns-rr-ha.conf", "server {}\n");
  w("etc/nginx/sites-enabled/default", "server {}\n");
  w("etc/php/8.2/fpm/pool.d/dns-rr-ha.conf", "[dns-rr-ha]\n");
  w("etc/php/8.2/fpm/pool.d/www.conf", "[www]\n");
  w("etc/php/8.2/mods-available/dns-rr-ha-session.ini", "; priority=99\n");
  w("home/dnsrrha-sync/.ssh/authorized_keys", "restrict ssh-ed25519 AAAA\n", 0o644);
  w("etc/dns-rr-ha/app.env", "DB_PASSWORD='x'\n", 0o644);
  if (opts.noIndex !== true) w("var/www/dns-rr-ha/releases/r1/index.php", "<?php\n");
  fs.mkdirSync(stubs);
  const stub = (name: string, body = "exit 0") =>
    fs.writeFileSync(path.join(stubs, name), `#!/bin/bash\necho "${name} $*" >> ${calls}\n${body}\n`, { mode: 0o755 });
  for (const n of ["php-fpm8.2", "phpenmod", "lsyncd", "rsync", "rrsync", "systemctl", "chown", "usermod"]) stub(n);
  stub("nginx", opts.failNginxTest === true ? 'echo "nginx: [emerg] bad" >&2; exit 1' : "exit 0");
  stub("useradd", `touch ${dir}/user-exists`);
  stub("id", `[ -e ${dir}/user-exists ]`);
  stub("runuser", opts.failPullFrom !== undefined ? `case "$*" in *@${opts.failPullFrom}:*) exit 255;; esac` : "exit 0");
  const exec = () =>
    run("bash", [SCRIPT], {
      env: {
        PATH: `${stubs}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
        DNS_RR_HA_ROOT: root,
        RELEASE_DIR: "/var/www/dns-rr-ha/releases/r1",
        SYNC_PEERS: "10.0.0.6 10.0.0.7",
      },
    });
  const callList = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : []);
  return { dir, root, exec, callList, cleanup: () => removeTempDir(dir) };
}

describe("app-bootstrap.sh behaviour (stubbed system commands, temp root)", () => {
  test("sets up dirs, links and services, checking configs before reloading", () => {
    const sb = sandbox();
    try {
      const r = sb.exec();
      assert.equal(r.status, 0, r.stderr);
      const p = (rel: string) => path.join(sb.root, rel);
      assert.equal(fs.readlinkSync(p("var/www/dns-rr-ha/current")), "/var/www/dns-rr-ha/releases/r1");
      assert.equal(fs.statSync(p("var/www/dns-rr-ha/shared/uploads")).mode & 0o7777, 0o2775);
      assert.equal(fs.statSync(p("home/dnsrrha-sync/.ssh/authorized_keys")).mode & 0o777, 0o600);
      assert.equal(fs.statSync(p("home/dnsrrha-sync/.ssh")).mode & 0o777, 0o700);
      assert.equal(fs.statSync(p("etc/dns-rr-ha/app.env")).mode & 0o777, 0o640, "DB password not world-readable");
      assert.equal(fs.existsSync(p("etc/nginx/sites-enabled/default")), false, "stock site (all interfaces) removed");
      assert.equal(fs.readlinkSync(p("etc/nginx/sites-enabled/dns-rr-ha.conf")), "../sites-available/dns-rr-ha.conf");
      assert.ok(fs.existsSync(p("etc/php/8.2/fpm/pool.d/www.conf.disabled")));
      assert.equal(fs.existsSync(p("etc/php/8.2/fpm/pool.d/www.conf")), false);

      const calls = sb.callList();
      const idx = (prefix: string) => {
        const i = calls.findIndex((c) => c.startsWith(prefix));
        assert.ok(i >= 0, `missing call "${prefix}" in:\n${calls.join("\n")}`);
        return i;
      };
      assert.match(calls[idx("useradd")]!, /--system .*--gid www-data dnsrrha-sync$/);
      assert.ok(calls.includes(`chown dnsrrha-sync:www-data ${sb.root}/var/www/dns-rr-ha/shared/uploads`));
      assert.ok(calls.includes(`chown root:www-data ${sb.root}/etc/dns-rr-ha/app.env`));
      const order = [
        "phpenmod -v 8.2 -s fpm dns-rr-ha-session",
        "php-fpm8.2 -t",
        "nginx -t",
        "runuser -u dnsrrha-sync -- rsync",
        "systemctl daemon-reload",
        "systemctl enable php8.2-fpm nginx dns-rr-ha-lsyncd.service",
        "systemctl reload-or-restart php8.2-fpm",
        "systemctl reload-or-restart nginx",
        "systemctl disable --now lsyncd.service",
        "systemctl restart dns-rr-ha-lsyncd.service",
      ].map(idx);
      assert.deepEqual(order, [...order].sort((a, b) => a - b), calls.join("\n"));
      assert.equal(calls.filter((c) => c.startsWith("runuser")).length, 2, "one pull per peer");
      assert.match(calls.find((c) => c.includes("@10.0.0.7:"))!, /--exclude=\.\* .*dnsrrha-sync@10\.0\.0\.7:\/var\/www\/dns-rr-ha\/shared\/uploads\/ /);

      const again = sb.exec();
      assert.equal(again.status, 0, `idempotent re-run: ${again.stderr}`);
      assert.equal(sb.callList().filter((c) => c.startsWith("useradd")).length, 1, "user created once");
      assert.equal(fs.readlinkSync(p("var/www/dns-rr-ha/current")), "/var/www/dns-rr-ha/releases/r1");
    } finally {
      sb.cleanup();
    }
  });

  test("a config that fails nginx -t aborts before any reload", () => {
    const sb = sandbox({ failNginxTest: true });
    try {
      const r = sb.exec();
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /emerg/);
      assert.deepEqual(sb.callList().filter((c) => c.startsWith("systemctl")), []);
    } finally {
      sb.cleanup();
    }
  });

  test("an unreachable peer only warns", () => {
    const sb = sandbox({ failPullFrom: "10.0.0.6" });
    try {
      const r = sb.exec();
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /initial pull from 10\.0\.0\.6 failed/);
      assert.ok(sb.callList().includes("systemctl restart dns-rr-ha-lsyncd.service"));
    } finally {
      sb.cleanup();
    }
  });

  test("a release dir without the app is refused before anything is switched", () => {
    const sb = sandbox({ noIndex: true });
    try {
      const r = sb.exec();
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /release dir has no index\.php/);
      assert.equal(fs.existsSync(path.join(sb.root, "var/www/dns-rr-ha/current")), false);
      assert.deepEqual(sb.callList().filter((c) => c.startsWith("systemctl") || c.startsWith("nginx")), []);
    } finally {
      sb.cleanup();
    }
  });
});
