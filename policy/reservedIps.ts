import { StackValidationPolicy } from "@pulumi/policy";
import { anyRefersTo, StackResource, StackViolation, validateStackWith } from "./validation";

/** Each kind of reserved IP, its assignment resource, and the property both hold the address in. */
const KINDS = [
    { ip: "digitalocean:index/reservedIp:ReservedIp", assignment: "digitalocean:index/reservedIpAssignment:ReservedIpAssignment", prop: "ipAddress" },
    { ip: "digitalocean:index/reservedIpv6:ReservedIpv6", assignment: "digitalocean:index/reservedIpv6Assignment:ReservedIpv6Assignment", prop: "ip" },
] as const;

/** Every reserved IP (v4 or v6) has an assignment resource for it: an unassigned one serves nobody, and is billed. */
export function unassignedReservedIpViolations(resources: readonly StackResource[]): StackViolation[] {
    return KINDS.flatMap((kind) => {
        const assignments = resources.filter((r) => r.type === kind.assignment);
        return resources
            .filter((r) => r.type === kind.ip)
            .filter((ip) => !anyRefersTo(assignments, kind.prop, ip, kind.prop))
            .map((ip) => ({
                urn: ip.urn,
                message: `reserved IP ${ip.name} is not assigned: declare a ${kind.assignment.split(":").pop()} with its ${kind.prop} and the droplet that holds it`,
            }));
    });
}

export const reservedIpPolicy: StackValidationPolicy = {
    name: "reserved-ips-assigned",
    description: "No reserved IP is left unassigned: each ReservedIp (and ReservedIpv6) has a matching assignment resource.",
    enforcementLevel: "mandatory",
    validateStack: validateStackWith(unassignedReservedIpViolations),
};
