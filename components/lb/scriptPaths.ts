/** Where the LB helper scripts are installed on a droplet (root-owned, 0755). */
export const lbScriptPaths = {
  /** keepalived vrrp_script: exits 0 iff local HAProxy answers /lb-health with 200. Arg: port. */
  checkHaproxy: "/usr/local/libexec/dns-rr-ha/check-haproxy",
  /** keepalived notify_master: assigns the region's reserved IP to this droplet. Arg: reserved IP. */
  reservedIpTakeover: "/usr/local/libexec/dns-rr-ha/reserved-ip-takeover",
} as const;

/** Files the takeover script reads on the droplet (written by the LB component). */
export const lbConfigFiles = {
  /** Optional KEY=VALUE overrides: DO_METADATA_URL, DO_API_URL, DO_TOKEN_FILE. */
  env: "/etc/dns-rr-ha/lb.env",
  /** DigitalOcean API token, mode 0600 root. */
  doToken: "/etc/dns-rr-ha/do-token",
} as const;
