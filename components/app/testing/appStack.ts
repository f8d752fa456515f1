/**
 * Test-only: runs the real nginx + php-fpm 8.2 with the rendered site and pool
 * serving the demo app (or given files) from a temp dir on 127.0.0.1:<free port>,
 * with the health pages every app gets in their own dir, as on a server.
 */
import * as fs from "fs";
import * as path from "path";
import { appHealthFiles, demoAppFiles, type AppFile } from "../demoApp";
import { renderNginxSite, NginxSiteSettings } from "../nginxSite";
import { renderPhpFpmPool } from "../phpFpmPool";
import { assertRunOk, freePort, makeTempDir, portOpen, Proc, removeTempDir, run, startProcess, waitFor } from "./processes";

/** A running test stack. */
export interface AppStack {
  dir: string;
  port: number;
  baseUrl: string;
  /** Release dir `current` points to. */
  docroot: string;
  uploadsDir: string;
  appEnvPath: string;
  fpm: Proc;
  nginx: Proc;
  /** Tails of the daemons' logs, for assertion messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** Options for startAppStack. */
export interface AppStackOptions {
  /** Content of app.env (default: REGION=test-region, no database). */
  appEnv?: string;
  /** php ini fragment loaded by php-fpm in addition to the stock ones (e.g. the session ini). */
  extraIni?: string;
  /** Overrides for the rendered nginx site. */
  site?: Partial<NginxSiteSettings>;
  /** The release's files (an app of your own, `source: <dir>`); default the demo app. */
  appFiles?: AppFile[];
}

/** The wrapper main nginx.conf used by tests around the rendered site. */
export function nginxMainConf(dir: string, sitePath: string): string {
  return [
    "user www-data;",
    "worker_processes 1;",
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/nginx-error.log;`,
    "events { worker_connections 64; }",
    "http {",
    "    include /etc/nginx/mime.types;",
    "    default_type application/octet-stream;",
    `    access_log ${dir}/nginx-access.log;`,
    `    client_body_temp_path ${dir}/tmp/body;`,
    `    fastcgi_temp_path ${dir}/tmp/fastcgi;`,
    `    proxy_temp_path ${dir}/tmp/proxy;`,
    `    uwsgi_temp_path ${dir}/tmp/uwsgi;`,
    `    scgi_temp_path ${dir}/tmp/scgi;`,
    `    include ${sitePath};`,
    "}",
    "",
  ].join("\n");
}

/** The wrapper php-fpm main config used by tests around the rendered pool. */
export function fpmMainConf(dir: string, poolPath: string): string {
  return ["[global]", `pid = ${dir}/php-fpm.pid`, `error_log = ${dir}/php-fpm.log`, "daemonize = no", `include = ${poolPath}`, ""].join("\n");
}

/** Starts nginx + php-fpm serving the demo app; `stop()` ends both by PID and removes the dir. */
export async function startAppStack(opts: AppStackOptions = {}): Promise<AppStack> {
  const dir = makeTempDir("dnsrrha-app");
  const port = await freePort();
  const docroot = path.join(dir, "releases", "r1");
  const uploadsDir = path.join(dir, "uploads");
  const appEnvPath = path.join(dir, "app.env");
  const socket = path.join(dir, "fpm.sock");
  const iniDir = path.join(dir, "php-conf.d");
  for (const d of [docroot, uploadsDir, iniDir, path.join(dir, "tmp")]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  fs.chmodSync(path.join(dir, "releases"), 0o755);
  for (const f of opts.appFiles ?? demoAppFiles()) fs.writeFileSync(path.join(docroot, f.path), f.content, { mode: 0o644 });
  const healthDir = path.join(dir, "health");
  fs.mkdirSync(healthDir, { mode: 0o755 });
  for (const f of appHealthFiles()) fs.writeFileSync(path.join(healthDir, f.path), f.content, { mode: 0o644 });
  fs.symlinkSync(docroot, path.join(dir, "current"));
  run("chown", ["www-data:www-data", uploadsDir]);
  fs.writeFileSync(appEnvPath, opts.appEnv ?? `REGION='test-region'\nUPLOADS_DIR='${uploadsDir}'\n`, { mode: 0o644 });
  if (opts.extraIni !== undefined) fs.writeFileSync(path.join(iniDir, "99-test.ini"), opts.extraIni, { mode: 0o644 });

  const poolPath = path.join(dir, "pool.conf");
  fs.writeFileSync(poolPath, renderPhpFpmPool({ listenSocket: socket, memoryMb: 1024, uploadMaxMb: 8, appEnvPath }));
  const fpmConf = path.join(dir, "php-fpm.conf");
  fs.writeFileSync(fpmConf, fpmMainConf(dir, poolPath));

  const sitePath = path.join(dir, "site.conf");
  fs.writeFileSync(
    sitePath,
    renderNginxSite({
      listenAddress: "127.0.0.1",
      listenPort: port,
      root: path.join(dir, "current"),
      phpFpmSocket: socket,
      uploadsDir,
      trustedProxyCidrs: ["127.0.0.1/32"],
      clientMaxBodySizeMb: 8,
      healthDir,
      ...opts.site,
    }),
  );
  const nginxConf = path.join(dir, "nginx.conf");
  fs.writeFileSync(nginxConf, nginxMainConf(dir, sitePath));
  assertRunOk(run("nginx", ["-t", "-q", "-c", nginxConf, "-e", "/dev/stderr", "-p", `${dir}/`]), "nginx -t");

  // An empty entry in PHP_INI_SCAN_DIR keeps the stock conf.d (extensions) and adds ours.
  const fpmEnv = { ...process.env, PHP_INI_SCAN_DIR: `:${iniDir}` };
  const fpm = startProcess("php-fpm8.2", ["-F", "-y", fpmConf], path.join(dir, "php-fpm.out"), fpmEnv);
  const nginx = startProcess("nginx", ["-c", nginxConf, "-p", `${dir}/`, "-e", `${dir}/nginx-error.log`, "-g", "daemon off;"], path.join(dir, "nginx.out"));
  const tail = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8").slice(-3000) : "");
  const logs = () =>
    ["php-fpm.log", "php-fpm.out", "nginx-error.log", "nginx.out"].map((f) => `--- ${f}\n${tail(path.join(dir, f))}`).join("\n");
  const stack: AppStack = {
    dir,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    docroot,
    uploadsDir,
    appEnvPath,
    fpm,
    nginx,
    logs,
    async stop() {
      await Promise.all([nginx.stop(), fpm.stop()]);
      removeTempDir(dir);
    },
  };
  try {
    await waitFor("php-fpm socket", () => fs.existsSync(socket) || fpm.exited());
    await waitFor("nginx port", async () => (await portOpen(port)) || nginx.exited());
    if (fpm.exited() || nginx.exited()) throw new Error("daemon exited during startup");
  } catch (e) {
    const l = logs();
    await stack.stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${l}`);
  }
  return stack;
}
