import { StackValidationPolicy } from "@pulumi/policy";
import { anyRefersTo, StackResource, StackViolation, validateStackWith } from "./validation";

export const DROPLET = "digitalocean:index/droplet:Droplet";
export const VOLUME_ATTACHMENT = "digitalocean:index/volumeAttachment:VolumeAttachment";

/**
 * A DB droplet carries its stack's role tag "<stack>-db" next to the stack tag "<stack>" (see
 * HaStack: the tags are the names of the stack's Tag resources).
 */
export function isDbDroplet(droplet: StackResource): boolean {
    const tags = Array.isArray(droplet.props.tags) ? droplet.props.tags.map(String) : [];
    return tags.some((t) => tags.includes(`${t}-db`));
}

/** Every DB droplet has a volume attached (its data lives on the volume, not the droplet's disk). */
export function dbVolumeViolations(resources: readonly StackResource[]): StackViolation[] {
    const attachments = resources.filter((r) => r.type === VOLUME_ATTACHMENT);
    return resources
        .filter((r) => r.type === DROPLET && isDbDroplet(r))
        .filter((db) => !anyRefersTo(attachments, "dropletId", db, "id"))
        .map((db) => ({
            urn: db.urn,
            message: `DB droplet ${db.name} has no volume attached: declare a digitalocean.VolumeAttachment with its dropletId, so the data survives the droplet`,
        }));
}

export const dbVolumePolicy: StackValidationPolicy = {
    name: "db-droplets-have-volumes",
    description: "Every DB droplet (tagged \"<stack>-db\") has a volume attached through a VolumeAttachment.",
    enforcementLevel: "mandatory",
    validateStack: validateStackWith(dbVolumeViolations),
};
