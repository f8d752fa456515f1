/**
 * App connections over TLS to a real Galera node configured by renderMyCnf with TLS (accounts
 * from renderUsersSql with REQUIRE SSL), certificates from a throwaway openssl CA: plain TCP is
 * refused, a client verifying the node with the CA gets in, one with another CA does not, nor one
 * seeing a certificate for another address; FLUSH SSL loads a renewed certificate (what the
 * wiring relies on). The group channel and SST over TLS are shown by galera.test.ts.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { renderAppEnv } from "../app/appEnv";
import { DEMO_APP_DIR } from "../app/demoApp";
import type { MyCnfTls } from "./myCnf";
import { renderUsersSql } from "./usersSql";
import { cidrToMariaDbHost } from "./mariaDbHost";
import { startLocalCluster, type LocalCluster, type LocalMariadb } from "./testing/localMariadb";

/** A throwaway CA (openssl) issuing certificates for an IP, as dbTls.ts declares them for a node's private address. */
function testCa(dir: string, name: string) {
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const caKey = path.join(dir, `${name}-ca-key.pem`);
  const caFile = path.join(dir, `${name}-ca.pem`);
  run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey, "-out", caFile, "-days", "1", "-subj", `/CN=${name} CA`]);
  let serial = 0;
  return {
    caFile,
    /** A key and certificate for `ip` (files named after `ip` and a counter). */
    issue(ip: string): { cert: string; key: string } {
      const base = path.join(dir, `${name}-${ip}-${++serial}`);
      const ext = `${base}.ext`;
      writeFileSync(ext, `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth,clientAuth\n`);
      run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${base}-key.pem`, "-out", `${base}.csr`, "-subj", `/CN=${ip}`]);
      run(["x509", "-req", "-in", `${base}.csr`, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial", "-out", `${base}-cert.pem`, "-days", "1", "-extfile", ext]);
      return { cert: `${base}-cert.pem`, key: `${base}-key.pem` };
    },
  };
}

describe("app connections over TLS to a Galera node", () => {
  let dir: string;
  let cluster: LocalCluster;
  let db: LocalMariadb;
  let ca: ReturnType<typeof testCa>;
  let otherCaFile: string;
  let nodeTls: MyCnfTls;
  const password = "app-'pw\\";
  /** Put a key and certificate where the node's config expects them (as the wiring rewrites them). */
  const install = (files: { cert: string; key: string }) => {
    copyFileSync(files.cert, nodeTls.cert);
    copyFileSync(files.key, nodeTls.key);
  };
  const client = (tlsArgs: string[]) =>
    spawnSync("mariadb", ["--no-defaults", "--host=127.0.0.1", `--port=${db.port}`, "--user=app", `--password=${password}`, ...tlsArgs, "--batch", "--skip-column-names",
      "-e", "SHOW SESSION STATUS LIKE 'Ssl_version'"], { encoding: "utf8" });
  const verified = (caFile: string) => client(["--ssl", `--ssl-ca=${caFile}`, "--ssl-verify-server-cert"]);

  /** Connects as the demo app does (lib.php app_db with an env from renderAppEnv); the session's TLS version or "ERROR ...". */
  const phpConnect = (sslCa: string | undefined): string => {
    const envPath = path.join(dir, "app.env");
    writeFileSync(envPath, renderAppEnv({ region: "nyc3", dbHosts: ["127.0.0.1"], dbPort: db.port, dbName: "app", dbUser: "app", dbPassword: password, ...(sslCa ? { dbSslCa: sslCa } : {}) }));
    const php = `require '${DEMO_APP_DIR}/lib.php';
      try { [$pdo] = app_db(); echo $pdo->query("SHOW SESSION STATUS LIKE 'Ssl_version'")->fetch()['Value']; }
      catch (Throwable $e) { echo 'ERROR ', $e->getMessage(); }`;
    const r = spawnSync("php", ["-r", php], { encoding: "utf8", env: { ...process.env, DNS_RR_HA_APP_ENV: envPath } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-tls-test-"));
    ca = testCa(dir, "cluster");
    otherCaFile = testCa(dir, "other").caFile;
    const first = ca.issue("127.0.0.1");
    nodeTls = { ca: ca.caFile, cert: path.join(dir, "server-cert.pem"), key: path.join(dir, "server-key.pem") };
    install(first);
    cluster = await startLocalCluster({ nodes: 1, tls: false, overrides: { tls: nodeTls } });
    db = cluster.nodes[0]!;
    db.sql(renderUsersSql({ appUser: "app", appPassword: password, appDatabase: "app", appHostPattern: cidrToMariaDbHost("127.0.0.0/8"), requireSsl: true }));
  });
  after(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("serves TLS and requires it from every TCP client; the group channel is TLS too", () => {
    assert.deepEqual(db.rows("SELECT @@have_ssl AS have_ssl, @@require_secure_transport AS req, @@ssl_cert AS cert, @@ssl_ca AS ca, @@tls_version AS v"),
      [{ have_ssl: "YES", req: "1", cert: nodeTls.cert, ca: nodeTls.ca, v: "TLSv1.2,TLSv1.3" }]);
    assert.match(db.rows("SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_options'")[0]!.Value!, /socket\.ssl = YES/);
    assert.match(db.sql("SHOW CREATE USER 'app'@'127.0.0.0/255.0.0.0';"), /REQUIRE SSL/);
  });

  test("a plain client is refused; a client verifying the node with the CA gets in, with another CA it does not", () => {
    const plain = client(["--skip-ssl"]);
    assert.notEqual(plain.status, 0, plain.stdout);
    assert.match(plain.stderr, /insecure transport|Access denied/i);
    const ok = verified(ca.caFile);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^Ssl_version\tTLSv1\.[23]$/m);
    const wrong = verified(otherCaFile);
    assert.notEqual(wrong.status, 0, wrong.stdout);
    assert.match(wrong.stderr, /SSL|certificate/i);
  });

  test("the demo app's PDO connection uses TLS and verifies the node", () => {
    assert.match(phpConnect(ca.caFile), /^TLSv1\.[23]$/);
    assert.match(phpConnect(undefined), /^ERROR no database reachable: .*(insecure transport|Access denied)/, "without TLS the node refuses the app");
    assert.match(phpConnect(otherCaFile), /^ERROR no database reachable: .*(SSL|certificate)/i, "a node the CA did not sign is refused");
  });

  test("a certificate for another address is refused by verifying clients; FLUSH SSL loads a renewed one without a restart", () => {
    const uptime = () => Number(db.rows("SHOW GLOBAL STATUS LIKE 'Uptime'")[0]!.Value);
    const started = Date.now() / 1000 - uptime();
    install(ca.issue("127.0.0.2"));
    db.sql("FLUSH SSL;");
    const mismatch = verified(ca.caFile);
    assert.notEqual(mismatch.status, 0, mismatch.stdout);
    assert.match(mismatch.stderr, /SSL|certificate|match/i);
    assert.match(phpConnect(ca.caFile), /^ERROR no database reachable: .*(SSL|certificate|peer|match)/i, "the app refuses it too");
    install(ca.issue("127.0.0.1"));
    db.sql("FLUSH SSL;");
    const renewed = verified(ca.caFile);
    assert.equal(renewed.status, 0, renewed.stderr);
    assert.match(phpConnect(ca.caFile), /^TLSv1\.[23]$/);
    assert.ok(Math.abs(Date.now() / 1000 - uptime() - started) < 3, "the same server process all along");
    assert.ok(db.synced());
  });
});
