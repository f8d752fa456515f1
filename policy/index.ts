/**
 * The dns-rr-ha policy pack (CrossGuard). Run it with the stack:
 *   pulumi preview --policy-pack policy --policy-pack-config policy/config.prod.json
 * This is the only module that constructs the PolicyPack: doing so serves the policies to the
 * Pulumi engine over gRPC, so nothing imports it; tests import ./policies instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
    description: "Secure-by-default guard rails for the dns-rr-ha stack: public ports, SSH sources, VPCs, TTLs, DB volumes, reserved IPs.",
    enforcementLevel: "mandatory",
    policies,
});
