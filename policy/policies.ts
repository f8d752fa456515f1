/**
 * The pack's policies, importable without the Pulumi engine: tests and other packs import this
 * module; only ./index.ts constructs the PolicyPack (which starts the engine's gRPC server).
 */
import { Policies } from "@pulumi/policy";
import { firewallWorldPolicy } from "./firewallWorld";
import { firewallSshPolicy } from "./firewallSsh";
import { dropletPlacementPolicy } from "./dropletPlacement";
import { dnsTtlPolicy } from "./dnsTtl";
import { dbVolumePolicy } from "./dbVolumes";
import { reservedIpPolicy } from "./reservedIps";

export const PACK_NAME = "dns-rr-ha";

export const policies: Policies = [
    firewallWorldPolicy,
    firewallSshPolicy,
    dropletPlacementPolicy,
    dnsTtlPolicy,
    dbVolumePolicy,
    reservedIpPolicy,
];
