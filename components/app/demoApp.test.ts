import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import { demoAppFiles, DEMO_APP_DIR } from "./demoApp";
import { renderAppEnv, AppEnvSettings } from "./appEnv";
import { startAppStack, AppStack } from "./testing/appStack";
import { CookieJar, getJson, multipartFile, request } from "./testing/http";
import { assertRunOk, run } from "./testing/processes";
import { startMariaDb, MariaDb } from "./testing/services";

describe("demo app files", () => {
  test("php -l passes for every file", () => {
    const files = demoAppFiles();
    assert.deepEqual(files.map((f) => f.path), ["db-op.php", "healthz.php", "index.php", "lib.php", "upload.php", "whoami.php"]);
    for (const f of files) {
      assert.equal(f.content, fs.readFileSync(path.join(DEMO_APP_DIR, f.path), "utf8"));
      assertRunOk(run("php", ["-l", path.join(DEMO_APP_DIR, f.path)]), `php -l ${f.path}`);
    }
  });

  test("php -l catches a syntax error (guards the check above)", () => {
    assert.notEqual(run("php", ["-l"], { input: "<?php function ( {" }).status, 0);
  });

  test("renderAppEnv values round-trip through the app's parser exactly", () => {
    const value = fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter((s) => !/[\r\n\0]/.test(s));
    const samples = fc.sample(fc.tuple(value, fc.string({ maxLength: 40 }).filter((s) => !/[\r\n\0]/.test(s))), 200);
    samples.push(["a'b\"c", "'quoted'"], ["x", "$HOME;#not a comment"], ["=", "= spaced "]);
    const envs = samples.map(([name, password]) => ({
      input: { region: "nyc3", dbHosts: ["10.0.0.2", { host: "db.example", port: 3307 }], dbName: name, dbUser: "u", dbPassword: password } satisfies AppEnvSettings,
    }));
    const texts = envs.map((e) => renderAppEnv(e.input));
    const php = `require '${DEMO_APP_DIR}/lib.php'; $out = []; foreach (json_decode(stream_get_contents(STDIN)) as $t) { $out[] = app_parse_env($t); } echo json_encode($out);`;
    const r = run("php", ["-r", php], { input: JSON.stringify(texts) });
    assertRunOk(r, "php app_parse_env");
    const parsed = JSON.parse(r.stdout) as Record<string, string>[];
    envs.forEach((e, i) => {
      assert.equal(parsed[i]?.["DB_NAME"], e.input.dbName);
      assert.equal(parsed[i]?.["DB_PASSWORD"], e.input.dbPassword);
      assert.equal(parsed[i]?.["DB_HOSTS"], "10.0.0.2,db.example:3307");
    });
  });

  test("renderAppEnv refuses values that would break the file", () => {
    const ok: AppEnvSettings = { region: "nyc3", dbHosts: ["10.0.0.2"], dbName: "app", dbUser: "app", dbPassword: "x" };
    assert.throws(() => renderAppEnv({ ...ok, dbPassword: "a\nREGION='evil'" }), /newlines/);
    assert.throws(() => renderAppEnv({ ...ok, dbHosts: [] }), /at least one/);
    assert.throws(() => renderAppEnv({ ...ok, dbHosts: ["10.0.0.2;port=1"] }), /dbHosts/);
    assert.throws(() => renderAppEnv({ ...ok, region: "NYC 3" }), /region/);
    assert.throws(() => renderAppEnv({ ...ok, dbSslCa: "ca.pem" }), /dbSslCa/);
    for (const bad of [0, 2.5, 257, Number.NaN]) assert.throws(() => renderAppEnv({ ...ok, dbClusterSize: bad }), /dbClusterSize/, String(bad));
  });

  test("dbClusterSize renders DB_CLUSTER_SIZE, which the app reads as a number; unset, the app reads 0 (no size check)", () => {
    const ok: AppEnvSettings = { region: "nyc3", dbHosts: ["10.0.0.2"], dbName: "app", dbUser: "app", dbPassword: "x" };
    assert.doesNotMatch(renderAppEnv(ok), /DB_CLUSTER_SIZE/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dns-rr-ha-env-"));
    try {
      const read = (text: string) => {
        fs.writeFileSync(path.join(dir, "app.env"), text);
        const r = run("php", ["-r", `require '${DEMO_APP_DIR}/lib.php'; echo json_encode(app_config()['db_cluster_size']);`], { env: { ...process.env, DNS_RR_HA_APP_ENV: path.join(dir, "app.env") } });
        assertRunOk(r, "php app_config");
        return JSON.parse(r.stdout) as number;
      };
      assert.match(renderAppEnv({ ...ok, dbClusterSize: 3 }), /^DB_CLUSTER_SIZE='3'$/m);
      assert.equal(read(renderAppEnv({ ...ok, dbClusterSize: 3 })), 3);
      assert.equal(read(renderAppEnv(ok)), 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("with a DB CA the env names it and the app's PDO options verify the server; without, no TLS options", () => {
    const ok: AppEnvSettings = { region: "nyc3", dbHosts: ["10.0.0.2"], dbName: "app", dbUser: "app", dbPassword: "x" };
    assert.doesNotMatch(renderAppEnv(ok), /DB_SSL_CA/);
    const text = renderAppEnv({ ...ok, dbSslCa: "/etc/dns-rr-ha/db-ca.pem" });
    assert.match(text, /^DB_SSL_CA='\/etc\/dns-rr-ha\/db-ca\.pem'$/m);
    const php = `require '${DEMO_APP_DIR}/lib.php'; $cfg = app_config(); $o = app_db_options($cfg['db_ssl_ca']); $p = app_db_options('');
      echo json_encode([$o[PDO::MYSQL_ATTR_SSL_CA] ?? null, $o[PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT] ?? null,
        array_key_exists(PDO::MYSQL_ATTR_SSL_CA, $p), $o[PDO::ATTR_ERRMODE] === PDO::ERRMODE_EXCEPTION]);`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dns-rr-ha-env-"));
    try {
      fs.writeFileSync(path.join(dir, "app.env"), text);
      const r = run("php", ["-r", php], { env: { ...process.env, DNS_RR_HA_APP_ENV: path.join(dir, "app.env") } });
      assertRunOk(r, "php app_db_options");
      assert.deepEqual(JSON.parse(r.stdout), ["/etc/dns-rr-ha/db-ca.pem", true, false, true]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

type Row = { id: number; host: string; region: string; session_hits: number | null; created_at: string };
type Whoami = {
  host: string;
  region: string;
  session_id: string | null;
  count: number | null;
  db: {
    error?: string;
    host?: string;
    insert_id?: number | null;
    rows?: Row[];
    kv?: { key: string; value: string; id: number; error?: string };
    read?: { key: string; found: boolean; value: string | null; rows: { v: string; host: string; region: string }[] };
  };
};

describe("demo app against a real MariaDB (nginx + php-fpm)", () => {
  let db: MariaDb;
  let stack: AppStack;
  const env = (hosts: (string | { host: string; port?: number })[]) =>
    renderAppEnv({ region: "ams3", dbHosts: hosts, dbPort: db.port, dbName: db.database, dbUser: db.user, dbPassword: db.password, uploadsDir: stack.uploadsDir });
  const setEnv = (text: string) => fs.writeFileSync(stack.appEnvPath, text);
  const whoami = async (q = "", jar?: CookieJar) => (await getJson<Whoami>(`${stack.baseUrl}/whoami.json${q}`, { jar })).json;
  const countVisits = () => Number(db.sql("SELECT COUNT(*) FROM app.visits").stdout.trim());

  before(async () => {
    db = await startMariaDb();
    stack = await startAppStack();
    setEnv(env(["127.0.0.1"]));
  });
  after(async () => {
    await stack?.stop();
    await db?.stop();
  });

  test("whoami writes a visit, reads the last 5 back, counts the session", async () => {
    const jar = new CookieJar();
    const ids: number[] = [];
    for (let i = 1; i <= 7; i++) {
      const w = await whoami("", jar);
      assert.equal(w.db.error, undefined, `${JSON.stringify(w)}\n${stack.logs()}`);
      assert.equal(w.count, i);
      assert.equal(w.host, os.hostname());
      assert.equal(w.region, "ams3");
      assert.equal(w.db.host, `127.0.0.1:${db.port}`);
      assert.equal(typeof w.db.insert_id, "number");
      ids.push(w.db.insert_id!);
      assert.equal(w.db.rows?.length, Math.min(i, 5));
      assert.equal(w.db.rows?.[0]?.id, w.db.insert_id, "newest row first");
      assert.equal(w.db.rows?.[0]?.session_hits, i);
    }
    assert.deepEqual([...ids].sort((a, b) => a - b), ids, "ids increase");
    const stored = db.sql(`SELECT host, region, session_hits FROM app.visits WHERE id = ${ids[6]}`).stdout.trim();
    assert.equal(stored, `${os.hostname()}\tams3\t7`);
  });

  test("visits table has the documented schema", () => {
    const cols = db.sql("SELECT COLUMN_NAME, COLUMN_TYPE, COLUMN_KEY, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='app' AND TABLE_NAME='visits' ORDER BY ORDINAL_POSITION").stdout;
    assert.deepEqual(cols.trim().split("\n").map((l) => l.split("\t").slice(0, 2).join(" ")), [
      "id bigint(20)",
      "host varchar(255)",
      "region varchar(64)",
      "session_hits int(11)",
      "created_at timestamp(6)",
    ]);
    assert.match(cols, /^id\tbigint\(20\)\tPRI\tauto_increment$/m);
  });

  test("write=0 reads without inserting", async () => {
    const before = countVisits();
    const w = await whoami("?write=0");
    assert.equal(w.db.insert_id, null);
    assert.equal(w.db.rows?.length, 5);
    assert.equal(countVisits(), before);
  });

  test("kv write and read back, values and keys are data not SQL", async () => {
    const key = "k' OR '1'='1";
    const value = "v1 \"quoted\" ünïcödé <b>";
    const w = await whoami(`?write=0&key=${encodeURIComponent(key)}&value=${encodeURIComponent(value)}`);
    assert.equal(w.db.kv?.key, key);
    assert.equal(typeof w.db.kv?.id, "number");
    const r = await whoami(`?write=0&read=${encodeURIComponent(key)}`);
    assert.equal(r.db.read?.found, true);
    assert.equal(r.db.read?.value, value);
    assert.equal(r.db.read?.rows[0]?.region, "ams3");
    const missing = await whoami("?write=0&read=nope");
    assert.equal(missing.db.read?.found, false);
    assert.equal(missing.db.read?.value, null);
    assert.match((await whoami("?write=0&key=&value=x")).db.kv?.error ?? "", /key/);
  });

  test("falls back to the next DB host when the first is down; reports an error when all are", async () => {
    // mariadbd listens on 127.0.0.1 only: 127.0.0.2 refuses.
    setEnv(env([{ host: "127.0.0.2" }, "127.0.0.1"]));
    const w = await whoami();
    assert.equal(w.db.host, `127.0.0.1:${db.port}`, JSON.stringify(w));
    assert.equal(typeof w.db.insert_id, "number");

    setEnv(env(["127.0.0.2"]));
    const down = await whoami();
    assert.match(down.db.error ?? "", /no database reachable: 127\.0\.0\.2:\d+: /);
    assert.equal(typeof down.count, "number", "page still works");
    const health = await request(`${stack.baseUrl}/healthz`);
    assert.equal(health.status, 200, "health does not depend on the database");
    const page = await request(`${stack.baseUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.body, /error: no database reachable/);
    setEnv(env(["127.0.0.1"]));
  });

  test("a made-up session id is replaced, a real one is kept", async () => {
    const jar = new CookieJar();
    jar.cookies.set("PHPSESSID", "attackerchosen0123456789ab");
    const w = await whoami("?write=0", jar);
    assert.notEqual(w.session_id, "attackerchosen0123456789ab");
    assert.equal(w.count, 1);
    const again = await whoami("?write=0", jar);
    assert.equal(again.session_id, w.session_id);
    assert.equal(again.count, 2);
  });

  test("index.php escapes everything it prints", async () => {
    setEnv(`REGION=<script>alert(1)</script>\nDB_HOSTS=127.0.0.1\nDB_PORT=${db.port}\nDB_NAME=app\nDB_USER=app\nDB_PASSWORD='${db.password}'\n`);
    const page = await request(`${stack.baseUrl}/`);
    assert.equal(page.status, 200);
    assert.ok(!page.body.includes("<script>alert(1)"), "raw markup from config/DB never reaches the page");
    assert.match(page.body, /<dd id="region">&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/dd>/);
    assert.match(page.body, /<td>ams3<\/td>/, "rows from the DB are listed");
    assert.match(page.body, /<td>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/td>/, "this visit's region row is escaped");
    setEnv(env(["127.0.0.1"]));
  });

  test("upload stores a file atomically under a safe name and lists it", async () => {
    const { body, contentType } = multipartFile("file", "../../etc/passwd", "uploaded content\n");
    const r = await request(`${stack.baseUrl}/upload.php?format=json`, { method: "POST", body, headers: { "Content-Type": contentType } });
    assert.equal(r.status, 201, r.body);
    const saved = JSON.parse(r.body) as { saved: string; size: number };
    assert.equal(saved.saved, "passwd");
    assert.equal(fs.readFileSync(path.join(stack.uploadsDir, "passwd"), "utf8"), "uploaded content\n");
    assert.equal(fs.statSync(path.join(stack.uploadsDir, "passwd")).mode & 0o777, 0o664);
    assert.deepEqual(fs.readdirSync(stack.uploadsDir).filter((n) => n.startsWith(".")), [], "no temp file left behind");

    const dot = multipartFile("file", ".htaccess", "x");
    const r2 = await request(`${stack.baseUrl}/upload.php?format=json`, { method: "POST", body: dot.body, headers: { "Content-Type": dot.contentType } });
    assert.equal((JSON.parse(r2.body) as { saved: string }).saved, "htaccess", "never a dotfile");

    const list = await getJson<{ files: { name: string; size: number }[] }>(`${stack.baseUrl}/upload.php?format=json`);
    assert.deepEqual(list.json.files.map((f) => f.name).sort(), ["htaccess", "passwd"]);
    const html = await request(`${stack.baseUrl}/upload.php`);
    assert.match(html.body, /<a href="\/uploads\/passwd">passwd<\/a>/);
    assert.equal((await request(`${stack.baseUrl}/uploads/passwd`)).body, "uploaded content\n");

    const none = await request(`${stack.baseUrl}/upload.php?format=json`, { method: "POST", body: "", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    assert.equal(none.status, 400);
  });
});
