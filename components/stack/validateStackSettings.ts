import { StackSettings } from "../config/settings";
import { isDigitalOceanRegion } from "../config/regions";
import { ipv4Overlaps, parseCidr } from "../config/cidr";
import { GALERA_TIMING } from "../db/myCnf";

/**
 * Checks a settings object built in code (stack config goes through parseStackConfig, which
 * checks more). Throws an error naming the field, its value and what is allowed.
 */
export function validateStackSettings(s: StackSettings): void {
    const fail = (field: string, value: unknown, allowed: string): never => {
        throw new Error(`HaStack settings.${field} = ${JSON.stringify(value)}: ${allowed}`);
    };
    if (s.regions.length < 2) fail("regions", s.regions, "needs at least two regions");
    s.regions.forEach((r, i) => {
        if (!isDigitalOceanRegion(r)) fail(`regions[${i}]`, r, "must be a DigitalOcean region slug");
        if (s.regions.indexOf(r) !== i) fail(`regions[${i}]`, r, "appears twice");
    });
    if (s.vpcCidrs.length !== s.regions.length) fail("vpcCidrs", s.vpcCidrs, `must hold one CIDR per region (${s.regions.length})`);
    s.vpcCidrs.forEach((c, i) => {
        const p = parseCidr(c);
        if (!p || p.family !== 4) fail(`vpcCidrs[${i}]`, c, "must be an IPv4 CIDR");
        s.vpcCidrs.slice(0, i).forEach((o) => {
            if (ipv4Overlaps(o, c)) fail(`vpcCidrs[${i}]`, c, `overlaps ${o}`);
        });
    });
    const witness = s.dnsFailover.witness;
    if (witness) {
        if (s.regions.includes(witness.region)) fail("dnsFailover.witness.region", witness.region, "must not be one of the stack's regions: the witness must fail separately");
        s.vpcCidrs.forEach((c) => {
            if (ipv4Overlaps(c, witness.vpcCidr)) fail("dnsFailover.witness.vpcCidr", witness.vpcCidr, `overlaps ${c}; the witness's VPC is peered with the regions'`);
        });
    }
    if (s.regions.length % 2 === 0 && !(s.dnsFailover.enabled && witness)) {
        fail("dnsFailover.witness", witness, `is required (with dnsFailover.enabled) with ${s.regions.length} regions: the database cluster needs an odd number of votes, and the witness runs the tie-breaking one; or use an odd number of regions`);
    }
    if (!Number.isInteger(s.db.suspectTimeoutMs) || s.db.suspectTimeoutMs < GALERA_TIMING.suspectMs.min || s.db.suspectTimeoutMs > GALERA_TIMING.suspectMs.max) {
        fail("db.suspectTimeoutMs", s.db.suspectTimeoutMs, `must be a whole number of milliseconds from ${GALERA_TIMING.suspectMs.min} to ${GALERA_TIMING.suspectMs.max}`);
    }
    if (!Number.isInteger(s.ttl) || s.ttl < 30) fail("ttl", s.ttl, "must be a whole number of seconds, at least 30");
    if (s.lb.perRegion !== 1 && s.lb.perRegion !== 2) fail("lb.perRegion", s.lb.perRegion, "must be 1 or 2");
    for (const role of ["app", "cache"] as const) {
        if (!Number.isInteger(s[role].perRegion) || s[role].perRegion < 1) fail(`${role}.perRegion`, s[role].perRegion, "must be a whole number, at least 1");
    }
    if (s.https !== false && s.dnsToken === undefined) {
        fail("dnsToken", undefined, "is required with settings.https: the certificate's ACME DNS-01 challenge writes a TXT record in the domain with it; give a token with the domain scopes, or set https: false");
    }
    if (s.adminCidrs.length === 0) fail("adminCidrs", s.adminCidrs, "must list at least one CIDR");
    if (s.sshPublicKeys.length === 0) fail("sshPublicKeys", s.sshPublicKeys, "must list at least one public key");
}
