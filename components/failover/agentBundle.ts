import * as path from "path";
import { buildSync } from "esbuild";

/**
 * The agent as one self-contained JavaScript file for the droplets' Node.js (Debian 12 and
 * Ubuntu 24.04 ship Node 18): it uses only Node's own modules, so nothing is installed from npm
 * on a droplet. Built from source at `pulumi up`, so what runs is what the tests exercised.
 */
export function agentBundle(): string {
    const result = buildSync({
        entryPoints: [path.join(__dirname, "agent", `main${path.extname(__filename)}`)],
        bundle: true,
        platform: "node",
        target: "node18",
        format: "cjs",
        write: false,
        minify: false,
        legalComments: "none",
        logLevel: "silent",
    });
    const file = result.outputFiles[0];
    if (!file) throw new Error("esbuild produced no output for the DNS failover agent");
    return `#!/usr/bin/env node\n// dns-rr-ha DNS failover agent, bundled by the program; do not edit on the droplet.\n${file.text}`;
}
