import * as path from "path";

/** Prefix of every namespace, bridge and run directory the lab creates. */
export const LAB_PREFIX = "drr";
/** Where the lab keeps hosts' overlays, volumes, keys and its state file (override: DRR_LAB_DIR). */
export const LAB_DIR = process.env.DRR_LAB_DIR ?? "/var/lib/dns-rr-ha-lab";
export const LAB_STATE_FILE = path.join(LAB_DIR, "state.json");
/** The stack whose config the lab deploys by default (Pulumi.lab.yaml). */
export const LAB_STACK = "lab";
export const PROJECT_DIR = path.join(__dirname, "..");
