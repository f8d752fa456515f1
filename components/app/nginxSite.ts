import { APP_DOC_ROOT, APP_HEALTH_DIR, APP_UPLOADS_DIR, DB_HEALTH_PATH, FPM_STATUS_PATH, PHP_FPM_SOCKET } from "./paths";
import {
  assertIPv4,
  assertIPv4Cidr,
  assertIntInRange,
  assertPort,
  assertSafeAbsPath,
  assertUrlPath,
} from "./validation";

/** Settings for the app server's nginx site (one `server {}` block plus helpers at http level). */
export interface NginxSiteSettings {
  /** Private (VPC, eth1) address to listen on; HAProxy connects here. Never the public one. */
  listenAddress: string;
  /** Port HAProxy connects to. Default 80. */
  listenPort?: number;
  /** Document root. Default `/var/www/dns-rr-ha/current` (a symlink flipped on deploy). */
  root?: string;
  /** php-fpm pool socket, must equal the pool's `listen`. */
  phpFpmSocket?: string;
  /** Directory served under `/uploads/` (synced between app servers by lsyncd). */
  uploadsDir?: string;
  /**
   * Networks of the load balancers. Only requests arriving from these may set
   * the client address via X-Forwarded-For; an empty list disables the rewrite.
   */
  trustedProxyCidrs: string[];
  /** Largest accepted request body (uploads), in MiB. Keep in sync with the pool's upload limits. */
  clientMaxBodySizeMb: number;
  /** URL of php-fpm's status page; must equal the pool's `pm.status_path`. Default `/fpm-status`. */
  fpmStatusPath?: string;
  /**
   * Peer addresses (CIDR) allowed to read the status page, matched against the
   * TCP peer, not X-Forwarded-For. Default `["127.0.0.1/32"]` (on-box monitoring).
   */
  statusAllowFrom?: string[];
  /** Directory of the health pages shipped with every app (db-health.php). Default `/usr/local/share/dns-rr-ha/health`. */
  healthDir?: string;
  /** nginx's stock fastcgi parameter file. Default `/etc/nginx/fastcgi_params`. */
  fastcgiParamsPath?: string;
}

/**
 * Renders the nginx site for an app server: the demo PHP app behind php-fpm,
 * `/healthz` and `/whoami.json` routed to PHP (so HAProxy's check fails when
 * php-fpm is dead), static `/uploads/`, dotfiles denied, real client address
 * taken from X-Forwarded-For only when the TCP peer is a trusted load balancer.
 *
 * The text is meant to be included inside nginx's `http {}` block (Debian's
 * `sites-enabled/*` include is), because it also declares a `geo` block.
 */
export function renderNginxSite(s: NginxSiteSettings): string {
  const port = s.listenPort ?? 80;
  const root = s.root ?? APP_DOC_ROOT;
  const socket = s.phpFpmSocket ?? PHP_FPM_SOCKET;
  const uploadsDir = s.uploadsDir ?? APP_UPLOADS_DIR;
  const statusPath = s.fpmStatusPath ?? FPM_STATUS_PATH;
  const statusAllow = s.statusAllowFrom ?? ["127.0.0.1/32"];
  const params = s.fastcgiParamsPath ?? "/etc/nginx/fastcgi_params";
  const healthDir = s.healthDir ?? APP_HEALTH_DIR;

  assertIPv4(s.listenAddress, "listenAddress");
  assertPort(port, "listenPort");
  assertSafeAbsPath(root, "root");
  assertSafeAbsPath(socket, "phpFpmSocket");
  assertSafeAbsPath(uploadsDir, "uploadsDir");
  assertSafeAbsPath(params, "fastcgiParamsPath");
  assertSafeAbsPath(healthDir, "healthDir");
  assertUrlPath(statusPath, "fpmStatusPath");
  assertIntInRange(s.clientMaxBodySizeMb, 1, 4096, "clientMaxBodySizeMb");
  s.trustedProxyCidrs.forEach((c, i) => assertIPv4Cidr(c, `trustedProxyCidrs[${i}]`));
  statusAllow.forEach((c, i) => assertIPv4Cidr(c, `statusAllowFrom[${i}]`));

  const upstream = `unix:${socket}`;
  const realIp =
    s.trustedProxyCidrs.length === 0
      ? ["    # No trusted load balancers: $remote_addr stays the TCP peer."]
      : [
          ...s.trustedProxyCidrs.map((c) => `    set_real_ip_from ${c};`),
          "    real_ip_header X-Forwarded-For;",
          // Skip every trusted hop from the right of X-Forwarded-For (e.g. a
          // proxy in front of HAProxy); entries left of the first untrusted
          // one are client-supplied and ignored.
          "    real_ip_recursive on;",
        ];

  return [
    "# Managed by dns-rr-ha (components/app/nginxSite.ts). Local edits are overwritten.",
    "",
    "# Status page access is decided on the TCP peer ($realip_remote_addr), because",
    "# $remote_addr can be set by X-Forwarded-For from a trusted load balancer.",
    "geo $realip_remote_addr $dnsrrha_status_allowed {",
    "    default 0;",
    ...statusAllow.map((c) => `    ${c} 1;`),
    "}",
    "",
    "server {",
    // Private address only: the public eth0 must not expose the app directly.
    `    listen ${s.listenAddress}:${port} default_server;`,
    "    server_name _;",
    "    server_tokens off;",
    "",
    `    root ${root};`,
    "    index index.php;",
    `    client_max_body_size ${s.clientMaxBodySizeMb}m;`,
    "",
    ...realIp,
    "",
    "    # Dotfiles (.git, .env, rsync temp files) are never served.",
    "    location ~ /\\. {",
    "        deny all;",
    "    }",
    "",
    "    # lib.php is include-only.",
    "    location = /lib.php {",
    "        return 404;",
    "    }",
    "",
    "    # Health goes through php-fpm on purpose: a dead pool must fail HAProxy's check.",
    "    location = /healthz {",
    "        access_log off;",
    ...fastcgiTo(params, "$realpath_root/healthz.php", upstream),
    "    }",
    "",
    "    location = /whoami.json {",
    ...fastcgiTo(params, "$realpath_root/whoami.php", upstream),
    "    }",
    "",
    "    location = /db-op.json {",
    ...fastcgiTo(params, "$realpath_root/db-op.php", upstream),
    "    }",
    "",
    "    # Shipped with every app (not in the release): is this region's database node serving?",
    `    location = ${DB_HEALTH_PATH} {`,
    "        access_log off;",
    ...fastcgiTo(params, `${healthDir}/db-health.php`, upstream),
    "    }",
    "",
    `    location = ${statusPath} {`,
    "        access_log off;",
    "        if ($dnsrrha_status_allowed = 0) {",
    "            return 403;",
    "        }",
    `        include ${params};`,
    `        fastcgi_param SCRIPT_FILENAME ${statusPath};`,
    `        fastcgi_pass ${upstream};`,
    "    }",
    "",
    "    # ^~ keeps the PHP regex below from matching: uploaded .php files are data, never code.",
    "    location ^~ /uploads/ {",
    `        alias ${uploadsDir}/;`,
    "        autoindex off;",
    "        add_header X-Content-Type-Options nosniff always;",
    "        # An uploaded HTML/SVG file must not run script in the site's origin.",
    "        add_header Content-Security-Policy \"sandbox; default-src 'none'\" always;",
    "        location ~ /\\. {",
    "            deny all;",
    "        }",
    "    }",
    "",
    "    location / {",
    "        try_files $uri $uri/ =404;",
    "    }",
    "",
    "    location ~ \\.php$ {",
    "        try_files $uri =404;",
    ...fastcgiTo(params, "$realpath_root$fastcgi_script_name", upstream),
    "    }",
    "}",
    "",
  ].join("\n");
}

/**
 * FastCGI block lines. `$realpath_root` (not `$document_root`) resolves the
 * `current` symlink per request, so after a deploy flips it PHP and OPcache see
 * the new release's real paths instead of a cached old one.
 */
function fastcgiTo(paramsPath: string, scriptFilename: string, upstream: string): string[] {
  return [
    `        include ${paramsPath};`,
    `        fastcgi_param SCRIPT_FILENAME ${scriptFilename};`,
    "        fastcgi_param DOCUMENT_ROOT $realpath_root;",
    `        fastcgi_pass ${upstream};`,
  ];
}
