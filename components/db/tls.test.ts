/**
 * Replication and app connections over TLS with real servers: two local mariadbd nodes
 * configured by renderMyCnf with TLS, wired by the rendered SQL (accounts REQUIRE SSL,
 * replication with MASTER_SSL_VERIFY_SERVER_CERT=1), with certificates made by openssl through
 * the same code the lab's model uses for the program's tls resources.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { certRequest, generatePemKeyPair, locallySignedCert, selfSignedCert } from "../../lab/cloud/tlsCerts";
import { renderAppEnv } from "../app/appEnv";
import { DEMO_APP_DIR } from "../app/demoApp";
import type { MyCnfTls } from "./myCnf";
import { describeCluster, localNodeName, startReplicatingCluster, waitUntil, type LocalMariadb } from "./testing/localMariadb";

/** A CA and issuer of server certificates for given IPs, as the program's dbTls.ts declares them. */
function testCa(name: string) {
  const key = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
  const cert = selfSignedCert(key.privateKeyPem, { subject: { commonName: `${name} CA` } }, {
    allowedUses: ["cert_signing", "crl_signing", "digital_signature"], validityPeriodHours: 24, isCaCertificate: true,
  });
  return {
    certPem: cert.certPem,
    issue(ip: string): { certPem: string; keyPem: string } {
      const nodeKey = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
      const csr = certRequest(nodeKey.privateKeyPem, { subject: { commonName: ip }, ipAddresses: [ip] });
      const issued = locallySignedCert(csr, { certPem: cert.certPem, privateKeyPem: key.privateKeyPem }, {
        allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"], validityPeriodHours: 24,
      });
      return { certPem: issued.certPem, keyPem: nodeKey.privateKeyPem };
    },
  };
}

describe("replication and clients over TLS (two real servers)", () => {
  let dir: string;
  let nodes: LocalMariadb[];
  let ca: ReturnType<typeof testCa>;
  const caPath = () => path.join(dir, "ca.pem");
  const otherCaPath = () => path.join(dir, "other-ca.pem");
  const nodeTls = (i: number): MyCnfTls => ({ ca: caPath(), cert: path.join(dir, `node-${i}`, "cert.pem"), key: path.join(dir, `node-${i}`, "key.pem") });
  const install = (i: number, pems: { certPem: string; keyPem: string }) => {
    writeFileSync(nodeTls(i).cert, pems.certPem);
    writeFileSync(nodeTls(i).key, pems.keyPem, { mode: 0o600 });
  };
  const client = (db: LocalMariadb, tlsArgs: string[]) =>
    spawnSync("mariadb", ["--no-defaults", "--host=127.0.0.1", `--port=${db.port}`, "--user=app", "--password=app-pw", ...tlsArgs, "--batch", "--skip-column-names",
      "-e", "SHOW SESSION STATUS LIKE 'Ssl_version'"], { encoding: "utf8" });

  /** Connects as the demo app does (lib.php app_db with an env from renderAppEnv); the session's TLS version or "ERROR ...". */
  const phpConnect = (db: LocalMariadb, sslCa: string | undefined): string => {
    const envPath = path.join(dir, "app.env");
    writeFileSync(envPath, renderAppEnv({ region: "nyc3", dbHosts: ["127.0.0.1"], dbPort: db.port, dbName: "app", dbUser: "app", dbPassword: "app-pw", ...(sslCa ? { dbSslCa: sslCa } : {}) }));
    const php = `require '${DEMO_APP_DIR}/lib.php';
      try { [$pdo] = app_db(); echo $pdo->query("SHOW SESSION STATUS LIKE 'Ssl_version'")->fetch()['Value']; }
      catch (Throwable $e) { echo 'ERROR ', $e->getMessage(); }`;
    const r = spawnSync("php", ["-r", php], { encoding: "utf8", env: { ...process.env, DNS_RR_HA_APP_ENV: envPath } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-tls-test-"));
    ca = testCa("cluster");
    writeFileSync(caPath(), ca.certPem);
    writeFileSync(otherCaPath(), testCa("other").certPem);
    for (const i of [0, 1]) {
      mkdirSync(path.join(dir, `node-${i}`));
      install(i, ca.issue("127.0.0.1"));
    }
    nodes = await startReplicatingCluster(2, (i) => ({ tls: nodeTls(i) }), { caPath: caPath() });
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((db) => db.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("serves TLS and requires it from every TCP client", () => {
    for (const db of nodes) {
      assert.deepEqual(db.rows("SELECT @@have_ssl AS have_ssl, @@require_secure_transport AS req, @@ssl_cert AS cert"),
        [{ have_ssl: "YES", req: "1", cert: nodeTls(nodes.indexOf(db)).cert }]);
    }
  });

  test("replication runs over TLS, verifying the peer's certificate against the CA", () => {
    nodes.forEach((db, i) => {
      const [status] = db.rows("SHOW ALL SLAVES STATUS");
      assert.equal(status?.Connection_name, localNodeName(1 - i));
      assert.equal(status?.Master_SSL_Allowed, "Yes");
      assert.equal(status?.Master_SSL_Verify_Server_Cert, "Yes");
      assert.equal(status?.Master_SSL_CA_File, caPath());
      assert.equal(status?.Slave_IO_Running, "Yes", describeCluster(nodes));
    });
    nodes[0]!.sql("CREATE TABLE app.t (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO app.t VALUES (1);");
    return waitUntil("the row on node 1", () => nodes[1]!.sql("SELECT COUNT(*) FROM app.t;").trim() === "1", 10_000, () => describeCluster(nodes));
  });

  test("both accounts REQUIRE SSL", () => {
    for (const user of ["app", "repl"]) {
      const grants = nodes[0]!.sql(`SHOW CREATE USER '${user}'@'127.0.0.0/255.0.0.0';`);
      assert.match(grants, /REQUIRE SSL/, `${user}: ${grants}`);
    }
  });

  test("a plain client is refused; a client verifying the server with the CA gets in, with another CA it does not", () => {
    const plain = client(nodes[0]!, ["--skip-ssl"]);
    assert.notEqual(plain.status, 0, plain.stdout);
    assert.match(plain.stderr, /insecure transport|Access denied/i);
    const verified = client(nodes[0]!, ["--ssl", `--ssl-ca=${caPath()}`, "--ssl-verify-server-cert"]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /^Ssl_version\tTLSv1\.[23]$/m);
    const wrong = client(nodes[0]!, ["--ssl", `--ssl-ca=${otherCaPath()}`, "--ssl-verify-server-cert"]);
    assert.notEqual(wrong.status, 0, wrong.stdout);
    assert.match(wrong.stderr, /SSL|certificate/i);
  });

  test("the demo app's PDO connection uses TLS and verifies the server", () => {
    const connect = (sslCa: string | undefined) => phpConnect(nodes[0]!, sslCa);
    assert.match(connect(caPath()), /^TLSv1\.[23]$/);
    assert.match(connect(undefined), /^ERROR no database reachable: .*(insecure transport|Access denied)/, "without TLS the server refuses the app");
    assert.match(connect(otherCaPath()), /^ERROR no database reachable: .*(SSL|certificate)/i, "a server the CA did not sign is refused");
  });

  test("a peer whose certificate is for another address stops the IO thread with an SSL error; FLUSH SSL loads a renewed certificate", async () => {
    const restart = () => nodes[0]!.sql(`STOP SLAVE '${localNodeName(1)}'; START SLAVE '${localNodeName(1)}';`);
    const io = () => nodes[0]!.rows("SHOW ALL SLAVES STATUS")[0]!;
    install(1, ca.issue("127.0.0.2"));
    nodes[1]!.sql("FLUSH SSL;");
    restart();
    await waitUntil("an SSL error on node 0's IO thread", () => /SSL|certificate/i.test(io().Last_IO_Error ?? ""), 15_000, () => describeCluster(nodes));
    assert.notEqual(io().Slave_IO_Running, "Yes");
    assert.match(phpConnect(nodes[1]!, caPath()), /^ERROR no database reachable: .*(SSL|certificate|peer)/i, "the app refuses it too");
    install(1, ca.issue("127.0.0.1"));
    nodes[1]!.sql("FLUSH SSL;");
    restart();
    await waitUntil("replication from node 1 again", () => io().Slave_IO_Running === "Yes" && io().Last_IO_Errno === "0", 15_000, () => describeCluster(nodes));
  });
});
