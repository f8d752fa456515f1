import * as path from "path";
import { DigitalOceanModel, ModelResource } from "../../lab/cloud/digitalOceanModel";
import { programFrom, runProgram } from "../../lab/cloud/runProgram";
import { readStackConfig } from "../../lab/cloud/stackConfig";

export const PROJECT_DIR = path.join(__dirname, "..", "..");
const INDEX = path.join(PROJECT_DIR, "index.ts");

/**
 * Secrets an operator sets before the first `pulumi up` (`pulumi config set --secret`, README),
 * which a stack file holds only encrypted: stand-ins, so a shipped stack parses as it would deployed.
 */
export const OPERATOR_SECRETS: Readonly<Record<string, string>> = {
    // HTTPS is on by default, and its DNS-01 challenge needs the domain-scoped token.
    "dns-rr-ha:dnsToken": "dop_v1_stand_in_dns_token_0123456789abcdef",
};

/** A shipped stack's config (Pulumi.<stack>.yaml) with {@link OPERATOR_SECRETS}. */
export function shippedStackConfig(stack: string): Record<string, string> {
    return { ...readStackConfig(PROJECT_DIR, stack), ...OPERATOR_SECRETS };
}

/** The shipped production stack's config, with the secrets an operator sets. */
export function prodConfig(): Record<string, string> {
    return shippedStackConfig("prod");
}

/** Runs the real program (index.ts) with `config` against a fresh model; returns model and exports. */
export async function runIndex(config: Record<string, string>, stack = "prod"): Promise<{ model: DigitalOceanModel; exports: Record<string, unknown> }> {
    const model = new DigitalOceanModel();
    const exports = await runProgram({
        project: "dns-rr-ha",
        stack,
        config,
        mocks: model.mocks(),
        program: programFrom(INDEX),
    });
    return { model, exports };
}

/** Runs an arbitrary program against a fresh model. */
export async function runWith(program: () => Record<string, unknown>, config: Record<string, string> = {}): Promise<{ model: DigitalOceanModel; exports: Record<string, unknown> }> {
    const model = new DigitalOceanModel();
    const exports = await runProgram({ project: "dns-rr-ha", stack: "test", config, mocks: model.mocks(), program });
    return { model, exports };
}

/** A file a wiring script installs, decoded. */
export interface ScriptFile {
    readonly path: string;
    readonly mode: string;
    readonly owner: string;
    readonly content: string;
}

/** Reads back the files a rendered wiring script would install (the inverse of renderWiringScript). */
export function wiringFiles(script: string): ScriptFile[] {
    const files: ScriptFile[] = [];
    const re = /^drr_put (\S+) (\S+) (\S+) <<'(DRR_FILE_\d+)'\n([\s\S]*?)^\4$/gm;
    for (const m of script.matchAll(re)) {
        files.push({ path: m[1]!, mode: m[2]!, owner: m[3]!, content: Buffer.from(m[5]!.replace(/\s+/g, ""), "base64").toString("utf8") });
    }
    return files;
}

export function droplets(model: DigitalOceanModel, role?: string): ModelResource[] {
    return model.ofKind("Droplet").filter((d) => role === undefined || (d.inputs.tags as string[]).includes(role));
}

/** The wiring command of a droplet (named after it). */
export function wiringOf(model: DigitalOceanModel, droplet: ModelResource): ModelResource {
    const cmd = model.ofKind("Command").find((c) => c.name === `${droplet.name}-wiring`);
    if (!cmd) throw new Error(`no wiring command for ${droplet.name}`);
    return cmd;
}

/** Every wiring command of a droplet: its own, and those of components adding to it (e.g. the DNS agent). */
export function commandsOf(model: DigitalOceanModel, droplet: ModelResource): ModelResource[] {
    const cmds = model.ofKind("Command").filter((c) => c.name.startsWith(`${droplet.name}-`) && c.inputs.connection?.host === droplet.state.ipv4Address);
    if (cmds.length === 0) throw new Error(`no wiring command for ${droplet.name}`);
    return cmds;
}
