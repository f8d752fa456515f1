import * as fs from "fs";
import * as path from "path";

/** A file to ship to the droplet: path relative to the release dir, and its text. */
export interface AppFile {
  path: string;
  content: string;
}

/** Directory holding the demo PHP app sources. */
export const DEMO_APP_DIR = path.join(__dirname, "demo");

/**
 * The demo PHP app, to be written into a release dir whose `current` symlink is
 * nginx's root:
 * - `index.php`   HTML page: host, region, session counter, visits written/read.
 * - `whoami.php`  served as `/whoami.json`: `{host, region, client_ip, session_id,
 *   count, db: {host, insert_id, rows, kv?, read?} | {error}}`; `?write=0` skips
 *   the visits insert, `?key=K&value=V` writes a kv row, `?read=K` reads kv rows.
 * - `healthz.php` served as `/healthz`: 200 "ok" whenever PHP runs (no DB, no memcached).
 * - `db-op.php`   served as `/db-op.json`: counters, UNIQUE claims, compare-and-set (the
 *   conflicting writes the lab and the bench race from several regions); writes as POST
 *   only, since the LBs replay a GET that failed on another server.
 * - `upload.php`  POST field `file` stores into UPLOADS_DIR; GET lists (`?format=json`).
 * - `lib.php`     shared helpers, never served.
 *
 * Sorted by path so the result (and anything hashed from it) is stable.
 */
export function demoAppFiles(): AppFile[] {
  return fs
    .readdirSync(DEMO_APP_DIR)
    .filter((name) => name.endsWith(".php"))
    .sort()
    .map((name) => ({ path: name, content: fs.readFileSync(path.join(DEMO_APP_DIR, name), "utf8") }));
}

/** Directory of the health pages shipped with every app (see {@link appHealthFiles}). */
export const APP_HEALTH_SOURCE_DIR = path.join(__dirname, "health");

/**
 * The health pages installed under APP_HEALTH_DIR on every app server, whatever the app:
 * `db-health.php` and the demo's `lib.php` (its connection code) beside it.
 */
export function appHealthFiles(): AppFile[] {
  return [
    { path: "db-health.php", content: fs.readFileSync(path.join(APP_HEALTH_SOURCE_DIR, "db-health.php"), "utf8") },
    { path: "lib.php", content: fs.readFileSync(path.join(DEMO_APP_DIR, "lib.php"), "utf8") },
  ];
}
