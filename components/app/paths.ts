/**
 * Default on-droplet locations shared by the renderers, the bootstrap script
 * and the demo app. Kept in one place so the nginx root, the php-fpm socket and
 * the uploads dir that lsyncd watches cannot drift apart.
 */

/** Base dir of the app: `releases/<id>`, `current -> releases/<id>`, `shared/uploads`. */
export const APP_BASE_DIR = "/var/www/dns-rr-ha";
/** Document root nginx serves: a symlink flipped atomically on deploy. */
export const APP_DOC_ROOT = `${APP_BASE_DIR}/current`;
/** Uploads live outside releases so a deploy never drops them. */
export const APP_UPLOADS_DIR = `${APP_BASE_DIR}/shared/uploads`;
/** php-fpm pool socket (nginx -> php-fpm). */
export const PHP_FPM_SOCKET = "/run/php/dns-rr-ha-fpm.sock";
/** Env file the demo app reads (see appEnv.ts); overridable by env DNS_RR_HA_APP_ENV. */
export const APP_ENV_PATH = "/etc/dns-rr-ha/app.env";
/** URL path of the php-fpm status page (pool `pm.status_path` and nginx location). */
export const FPM_STATUS_PATH = "/fpm-status";
/**
 * The health pages the stack ships with every app (the demo or yours), outside the release dir:
 * `db-health.php` (served as /db-health) and the demo's `lib.php` it uses.
 */
export const APP_HEALTH_DIR = "/usr/local/share/dns-rr-ha/health";
/** URL path of the database health page (nginx location; the LBs exempt it from the https redirect). */
export const DB_HEALTH_PATH = "/db-health";
/** Unix user that receives uploads from peer app servers over ssh. */
export const SYNC_USER = "dnsrrha-sync";

/** Where the bootstrap script expects each rendered file on the droplet. */
export const APP_CONFIG_PATHS = {
  nginxSite: "/etc/nginx/sites-available/dns-rr-ha.conf",
  phpFpmPool: "/etc/php/8.2/fpm/pool.d/dns-rr-ha.conf",
  phpSessionIni: "/etc/php/8.2/mods-available/dns-rr-ha-session.ini",
  appEnv: APP_ENV_PATH,
  lsyncdConfig: "/etc/lsyncd/dns-rr-ha-uploads.conf.lua",
  lsyncdUnit: "/etc/systemd/system/dns-rr-ha-lsyncd.service",
  syncAuthorizedKeys: `/home/${SYNC_USER}/.ssh/authorized_keys`,
  syncPrivateKey: `/home/${SYNC_USER}/.ssh/id_ed25519`,
  /** The database cluster's CA certificate (public), which the app verifies the DB servers with. */
  dbCaCert: "/etc/dns-rr-ha/db-ca.pem",
} as const;
