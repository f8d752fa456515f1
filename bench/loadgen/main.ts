/**
 * The load generator as a process, so it can run inside a network namespace:
 *   node --import tsx bench/loadgen/main.ts '{"host":"www.example.test","paths":[...],"rate":100,...,"out":"/tmp/r.ndjson"}'
 * Writes one JSON record per request to `out` and prints the summary as one JSON line.
 * The spec is {@link LoadSpec}; exit code 2 for a bad spec.
 */
import * as fs from "fs";
import { planOf, LoadSpec, Plan } from "./spec";
import { runLoad } from "./run";

async function main(): Promise<void> {
    let plan: Plan;
    try {
        plan = planOf(JSON.parse(process.argv[2] ?? "") as LoadSpec);
    } catch (e) {
        process.stderr.write(`loadgen: ${(e as Error).message}\n`);
        process.exit(2);
    }
    const out = fs.createWriteStream(plan.out);
    const summary = await runLoad(plan, (r) => out.write(`${JSON.stringify(r)}\n`));
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((e: Error) => { process.stderr.write(`loadgen: ${e.stack ?? e.message}\n`); process.exit(1); });
