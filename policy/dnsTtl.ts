import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { validateWith } from "./validation";

/** The longest TTL a round-robin record may have: resolvers must drop a dead entry point fast. */
export const MAX_ROUND_ROBIN_TTL = 60;

export interface DnsRecordProps {
    readonly type?: string;
    readonly name?: string;
    readonly ttl?: number;
}

/** A/AAAA records (the round-robin entry points) need a TTL of at most 60 s; DigitalOcean's default is 1800. */
export function dnsTtlViolations(record: DnsRecordProps): string[] {
    if (record.type !== "A" && record.type !== "AAAA") return [];
    if (typeof record.ttl === "number" && record.ttl <= MAX_ROUND_ROBIN_TTL) return [];
    const ttl = record.ttl === undefined ? "unset (DigitalOcean's default is 1800)" : String(record.ttl);
    return [`${record.type} record "${record.name ?? "?"}" has TTL ${ttl}; a round-robin record needs ttl <= ${MAX_ROUND_ROBIN_TTL} so clients leave a failed region quickly`];
}

export const dnsTtlPolicy: ResourceValidationPolicy = {
    name: "round-robin-record-ttl",
    description: `Round-robin DNS records (A/AAAA) have a TTL of at most ${MAX_ROUND_ROBIN_TTL} seconds.`,
    enforcementLevel: "mandatory",
    validateResource: validateWith(digitalocean.DnsRecord, (r) => dnsTtlViolations(r)),
};
