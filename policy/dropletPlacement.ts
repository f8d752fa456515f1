import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { validateWith } from "./validation";

export interface DropletProps {
    readonly vpcUuid?: string;
    readonly monitoring?: boolean;
}

/** A droplet must sit in a VPC (its private network) and run the monitoring agent (the alerts read it). */
export function dropletPlacementViolations(droplet: DropletProps): string[] {
    const violations: string[] = [];
    if (typeof droplet.vpcUuid !== "string" || droplet.vpcUuid === "") {
        violations.push("the droplet has no vpcUuid: put it in the stack's VPC of its region, or it lands in the account's default VPC");
    }
    if (droplet.monitoring !== true) {
        violations.push(`the droplet has monitoring ${droplet.monitoring === undefined ? "unset" : String(droplet.monitoring)}: set monitoring: true, the alert policies read the agent's metrics`);
    }
    return violations;
}

export const dropletPlacementPolicy: ResourceValidationPolicy = {
    name: "droplet-in-vpc-with-monitoring",
    description: "Every droplet is in a VPC (vpcUuid set) and has the monitoring agent on.",
    enforcementLevel: "mandatory",
    validateResource: validateWith(digitalocean.Droplet, (d) => dropletPlacementViolations(d)),
};
