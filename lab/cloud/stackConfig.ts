import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

/** The project's name, read from Pulumi.yaml (it is also the config namespace). */
export function projectName(projectDir: string): string {
    const doc = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { name?: unknown };
    if (typeof doc.name !== "string") throw new Error(`${projectDir}/Pulumi.yaml has no project name`);
    return doc.name;
}

/**
 * Reads Pulumi.<stack>.yaml into the form the Pulumi engine hands a program: "namespace:key" ->
 * text, structured values as JSON. Secure (encrypted) values cannot be read without the CLI and
 * are reported by key.
 */
export function readStackConfig(projectDir: string, stack: string): Record<string, string> {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new Error(`no stack config ${file}; stacks here: ${fs.readdirSync(projectDir).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).join(", ")}`);
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (value !== null && typeof value === "object" && "secure" in value) continue;
        raw[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return raw;
}
