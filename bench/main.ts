/**
 * `npm run bench -- --out DIR [--duration S] [--rate R] [--concurrency C] [--timeout MS] [--demo]`:
 * runs the lab's data-safety scenarios (bringing the lab up first if none is, and down after) and
 * writes DIR/report.md, DIR/timeline.svg and DIR/records/. `--demo` runs only the self-contained
 * demonstrations on 127.0.0.1 (no lab; the Galera vs semisync conflict bench needs root and is
 * skipped without it). Both modes end with the conflict bench (bench/db/conflictBench.ts).
 */
import { parseArgs } from "util";
import { labDown } from "../lab/down";
import { readLabState } from "../lab/labState";
import { labUp } from "../lab/up";
import { preflight } from "../lab/preflight";
import { conflictBench } from "./db/conflictBench";
import { proxyCost } from "./demo/proxyCost";
import { labScenarios } from "./lab/labScenarios";
import { stallWrites } from "./demo/stallWrites";
import { fmt } from "./report/format";
import { runBench } from "./run";
import { Scenario } from "./scenario";

const USAGE = "usage: npm run bench -- --out DIR [--duration S] [--rate R] [--concurrency C] [--timeout MS] [--demo]";

function number(name: string, text: string | undefined, fallback: number): number {
    const v = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got ${text}\n${USAGE}`);
    return v;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: { out: { type: "string" }, duration: { type: "string" }, rate: { type: "string" }, concurrency: { type: "string" }, timeout: { type: "string" }, demo: { type: "boolean" } },
    });
    if (!values.out) throw new Error(USAGE);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    // The conflict bench runs on 127.0.0.x in both modes (no lab); it is skipped without root.
    let scenarios: Scenario[] = [proxyCost, stallWrites, conflictBench];
    let broughtUp = false;
    if (values.demo) {
        // As root the conflict bench runs: its local MariaDB/Galera come from the "bench" packages.
        if (process.getuid?.() === 0) preflight(log, ["bench"]);
    } else {
        // wrk (the LB scenario's capacity) and the conflict bench's servers; the lab's own tools come along.
        preflight(log, ["lab", "bench"]);
        let state = readLabState();
        if (!state) {
            log("no lab is up: bringing it up (npm run lab)");
            state = await labUp({ log });
            broughtUp = true;
        }
        scenarios = [...labScenarios(state), conflictBench];
    }
    const lab = !values.demo;
    let result: Awaited<ReturnType<typeof runBench>>;
    try {
        result = await runBench(scenarios, {
            outDir: values.out,
            durationSec: number("duration", values.duration, lab ? 30 : 10),
            // Lab writes go through PHP sessions shared across regions (~0.3 s a page): 20/s is a steady load there.
            rate: number("rate", values.rate, lab ? 20 : 200),
            concurrency: Math.round(number("concurrency", values.concurrency, lab ? 64 : 256)),
            timeoutMs: number("timeout", values.timeout, lab ? 10_000 : 1000),
            title: lab ? "dns-rr-ha bench: the lab under faults" : "dns-rr-ha bench (local demonstration)",
            log,
        });
    } finally {
        if (broughtUp) await labDown({ log });
    }
    for (const { report } of result.outcomes) {
        process.stdout.write(`${report.name}\n`);
        for (const f of report.figures) {
            const b = f.b ? `   ${f.b.label}: ${fmt(f.b.value)}${f.a.value !== null && f.b.value ? `   ratio ${fmt(f.a.value / f.b.value, 3)}` : ""}` : "";
            process.stdout.write(`  ${f.name} (${f.unit})   ${f.a.label}: ${fmt(f.a.value)}${b}\n`);
        }
    }
    process.stdout.write(`report: ${result.reportPath}\nchart:  ${result.svgPath}\n`);
}

main().catch((e: Error) => { process.stderr.write(`${e.message}\n`); process.exit(1); });
