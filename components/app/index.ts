/**
 * App tier building blocks: pure renderers for the app servers' configs, the
 * demo PHP app and the droplet-side bootstrap script. The Pulumi component
 * (appTier.ts, written elsewhere) wires these into droplets.
 */
export * from "./paths";
export { renderNginxSite } from "./nginxSite";
export type { NginxSiteSettings } from "./nginxSite";
export { renderPhpFpmPool, computePmSizes } from "./phpFpmPool";
export type { PhpFpmPoolSettings, PmSizes } from "./phpFpmPool";
export { renderPhpSessionIni, sessionReplicaCount } from "./phpSessionIni";
export type { PhpSessionIniSettings, MemcachedServer } from "./phpSessionIni";
export { renderAppEnv } from "./appEnv";
export type { AppEnvSettings, DbHost } from "./appEnv";
export { renderLsyncdConfig, renderLsyncdUnit, renderSyncAuthorizedKey, syncSshCommand } from "./lsyncdConfig";
export type { LsyncdSettings, LsyncdPeer, LsyncdUnitSettings, SyncAuthorizedKeySettings } from "./lsyncdConfig";
export { demoAppFiles, DEMO_APP_DIR } from "./demoApp";
export type { AppFile } from "./demoApp";
export { appBootstrapScript, APP_SCRIPTS_DIR } from "./scripts";
