/**
 * dns-rr-ha component library: everything another stack needs to reuse the pieces.
 * Each component is a pulumi.ComponentResource with a typed, documented Args interface.
 */
export * from "./config";
export { HaStack, HostSummary, stackResourceName, validateStackSettings } from "./stack";
export { Network, NetworkArgs } from "./network";
export { Firewalls, FirewallsArgs, firewallMatrix, FirewallPolicy, InboundRule, OutboundRule, PORTS } from "./firewall";
export { RoundRobinDns, RoundRobinDnsArgs, EntryPoint } from "./dns";
export { SessionCache, SessionCacheArgs, CacheServer, renderMemcachedConfig } from "./cache";
export { DatabaseCluster, DatabaseClusterArgs, DatabaseConnection, DB_AUTO_INCREMENT_INCREMENT, regionSlot } from "./db/databaseCluster";
export { createDbTls, DbTls, DbTlsNode, DB_TLS_PATHS } from "./db/dbTls";
export { AppTier, AppTierArgs, appSourceFiles } from "./app/appTier";
export { LoadBalancerTier, LoadBalancerTierArgs, Backend } from "./lb/loadBalancerTier";
export { SiteCertificate, SiteCertificateArgs, LETS_ENCRYPT_DIRECTORY, MIN_DAYS_REMAINING } from "./lb/siteCertificate";
export { DnsFailover, DnsFailoverArgs, WatchedEntryPoint, Observer, DEFAULT_TIMING, FailoverTiming } from "./failover";
export { Monitoring, MonitoringArgs, DEFAULT_THRESHOLDS } from "./monitoring";
export { TierArgs, TierRegion, TierHost, Role, ROLES, sizeMemoryMb } from "./droplet";
export { renderCloudConfig, CloudConfigSettings, BootFile } from "./cloudinit";
export { renderWiringScript, wireHost, WiredFile, WiredCommand, WiringConnection } from "./wiring";
