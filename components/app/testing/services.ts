/** Test-only: throwaway memcached and MariaDB servers on 127.0.0.1, stopped by PID. */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { assertRunOk, freePort, makeTempDir, portOpen, Proc, removeTempDir, run, RunResult, startProcess, waitFor } from "./processes";

/** A memcached started by a test. */
export interface Memcached {
  port: number;
  proc: Proc;
}

/** Starts memcached on 127.0.0.1:port (TCP only). */
export async function startMemcached(port: number, logDir: string): Promise<Memcached> {
  const proc = startProcess("memcached", ["-l", "127.0.0.1", "-p", String(port), "-U", "0", "-u", "nobody", "-m", "16"], path.join(logDir, `memcached-${port}.log`));
  await waitFor(`memcached :${port}`, async () => (await portOpen(port)) || proc.exited());
  if (proc.exited()) throw new Error(`memcached on ${port} exited at startup`);
  return { port, proc };
}

/** Sends one text-protocol command and returns the reply up to END. */
export function memcachedCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let out = "";
    s.on("data", (d: Buffer) => {
      out += d.toString();
      if (/(^|\r\n)(END|ERROR)\r\n$/.test(out)) s.end();
    });
    s.on("end", () => resolve(out));
    s.on("error", reject);
    s.write(`${command}\r\n`);
  });
}

/** `stats` of a memcached as a map. */
export async function memcachedStats(port: number): Promise<Map<string, string>> {
  const out = await memcachedCommand(port, "stats");
  const m = new Map<string, string>();
  for (const line of out.split("\r\n")) {
    const [stat, k, v] = line.split(" ");
    if (stat === "STAT" && k !== undefined && v !== undefined) m.set(k, v);
  }
  return m;
}

/** A MariaDB server started by a test, with database `app` and user `app`@127.0.0.1. */
export interface MariaDb {
  port: number;
  dir: string;
  user: string;
  password: string;
  database: string;
  /** Unix socket of the server (root logs in over it). */
  socket: string;
  /** Runs SQL as root over the unix socket; returns tab-separated output. */
  sql(query: string): RunResult;
  stop(): Promise<void>;
}

/** Initialises a fresh datadir and starts mariadbd on 127.0.0.1 only. */
export async function startMariaDb(): Promise<MariaDb> {
  const dir = makeTempDir("dnsrrha-mariadb");
  const port = await freePort();
  const datadir = path.join(dir, "data");
  const socket = path.join(dir, "mysqld.sock");
  // Its own tmpdir: a server starting deletes the `#sql*` temporary files of any other in a shared /tmp.
  const tmp = path.join(dir, "tmp");
  fs.mkdirSync(tmp);
  assertRunOk(
    run("mariadb-install-db", ["--no-defaults", `--datadir=${datadir}`, `--tmpdir=${tmp}`, "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"]),
    "mariadb-install-db",
  );
  const proc = startProcess(
    "mariadbd",
    [
      "--no-defaults",
      `--datadir=${datadir}`,
      `--tmpdir=${tmp}`,
      `--socket=${socket}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      "--skip-name-resolve",
      "--user=root",
      "--skip-log-bin",
      "--innodb-buffer-pool-size=16M",
      `--pid-file=${dir}/mariadbd.pid`,
      `--log-error=${dir}/error.log`,
    ],
    path.join(dir, "mariadbd.out"),
  );
  const sql = (query: string) => run("mariadb", ["--no-defaults", "-S", socket, "-u", "root", "-N", "-B", "-e", query]);
  const db: MariaDb = {
    port,
    dir,
    user: "app",
    password: "s3cr'et\"$;#pw",
    database: "app",
    socket,
    sql,
    async stop() {
      await proc.stop(15_000);
      removeTempDir(dir);
    },
  };
  try {
    await waitFor("mariadbd", () => proc.exited() || sql("SELECT 1").status === 0, 20_000);
    if (proc.exited()) throw new Error(`mariadbd exited:\n${fs.readFileSync(path.join(dir, "error.log"), "utf8")}`);
    const pw = db.password.replace(/\\/g, "\\\\").replace(/'/g, "\\'");
    assertRunOk(sql(`CREATE DATABASE app; CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '${pw}'; GRANT ALL ON app.* TO 'app'@'127.0.0.1';`), "create user");
  } catch (e) {
    await db.stop();
    throw e;
  }
  return db;
}

/** One client session held open across steps of a test (a transaction that keeps its locks). */
export interface SqlSession {
  /** Runs the statements in this session; resolves with their output once all of them have run. */
  query(statements: string): Promise<string>;
  /** Ends the session (an open transaction rolls back); resolves with everything it wrote to stderr (its errors). */
  close(): Promise<string>;
}

/**
 * Opens a root session on `db` through the `mariadb` client reading statements from a pipe:
 * `--force` so an error does not end it, `--unbuffered` so each result arrives at once. A query is
 * done when a marker selected after it comes back (a statement blocked on a lock keeps it pending).
 */
export function openSqlSession(db: Pick<MariaDb, "socket">): SqlSession {
  const child = spawn("mariadb", ["--no-defaults", "-S", db.socket, "-u", "root", "-N", "-B", "--unbuffered", "--force"], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let seq = 0;
  return {
    async query(statements) {
      const marker = `--session-done-${++seq}--\n`;
      const from = out.length;
      child.stdin.write(`${statements}\nSELECT '${marker.trim()}';\n`);
      await waitFor(`session: ${statements}`, () => out.indexOf(marker, from) >= 0 || child.exitCode !== null, 30_000);
      const at = out.indexOf(marker, from);
      if (at < 0) throw new Error(`the session ended: ${err}`);
      return out.slice(from, at);
    },
    async close() {
      child.stdin.end();
      await exited;
      return err;
    },
  };
}
