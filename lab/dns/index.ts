/** The lab's authoritative DNS (BIND 9 with random rrset order) and its pure renderers. */
export type { DnsRecord, DnsRecordType, DnsZone, StoredDnsRecord } from "./dnsTypes";
export type { DnsServer, StartDnsOptions, ZoneChange, ZoneUpdate } from "./dnsServer";
export { openDns, readZoneRecords, servedSerial, servedZones, startDns, stopDnsFromState, updateZoneRecords } from "./dnsServer";
export type { NamedConfOptions } from "./namedConf";
export { renderNamedConf, renderRndcConf } from "./namedConf";
export type { ZoneRenderOptions } from "./zoneFile";
export { recordFqdn, renderZone } from "./zoneFile";
