import * as fs from "fs";
import * as path from "path";

/** Directory of the droplet-side shell scripts. */
export const APP_SCRIPTS_DIR = path.join(__dirname, "scripts");

/**
 * `app-bootstrap.sh`: run as root on an app droplet after the rendered files
 * are in place (paths in `APP_CONFIG_PATHS`). Creates the sync user and dirs,
 * flips `current` to `RELEASE_DIR`, enables the session ini for php-fpm,
 * checks (`php-fpm8.2 -t`, `nginx -t`) and reloads, pulls existing uploads
 * from `SYNC_PEERS`, (re)starts lsyncd. Env knobs are documented in the script.
 */
export function appBootstrapScript(): string {
  return fs.readFileSync(path.join(APP_SCRIPTS_DIR, "app-bootstrap.sh"), "utf8");
}
