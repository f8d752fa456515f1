/**
 * Load-balancer building blocks: pure renderers for haproxy.cfg and
 * keepalived.conf, plus the helper scripts installed on LB droplets.
 */
export {
  renderHaproxyConfig,
  validateHaproxySettings,
  appServersForRegion,
  HAPROXY_DEFAULTS,
  HAPROXY_BACKEND,
  HAPROXY_STATS_URI,
  LB_HEALTH_URI,
} from "./haproxyConfig";
export type { HaproxySettings, HaproxyServer, HaproxyTimeouts, HaproxyHealthCheck, AppServerRef } from "./haproxyConfig";
export { FFDHE2048_PEM, HAPROXY_TLS_DEFAULTS, MOZILLA_INTERMEDIATE } from "./haproxyTls";
export type { HaproxyTlsSettings } from "./haproxyTls";
export {
  renderKeepalivedConfig,
  validateKeepalivedSettings,
  stateMarkerAddress,
  KEEPALIVED_DEFAULTS,
} from "./keepalivedConfig";
export type { KeepalivedSettings } from "./keepalivedConfig";
export { lbScriptPaths, lbConfigFiles } from "./scriptPaths";
export { lbScripts, lbScriptSourcePath, lbScriptSources } from "./lbScripts";
export type { LbScriptFile } from "./lbScripts";
