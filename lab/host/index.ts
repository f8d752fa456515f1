/** Lab machine containers: one systemd-nspawn container per droplet, booted from a lab image. */
export { bootHost, DEFAULT_EXTRA_CAPABILITIES } from "./bootHost";
export type { BootHostOptions, HostBind, RunningHost } from "./bootHost";
export type { ExecOptions, ExecResult } from "./containerExec";
export type { CloudInitResult } from "./cloudInitStatus";
export { cloudInitSucceeded, formatCloudInitFailure } from "./cloudInitStatus";
export type { HostMemory } from "./hostMemory";
export type { HostMetaData } from "./noCloudSeed";
export { stopHostFromState, cleanupStale, DEFAULT_STOP_TIMEOUT_MS } from "./stopHost";
export type { StopReport } from "./stopHost";
