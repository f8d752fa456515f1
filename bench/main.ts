/**
 * `npm run bench -- --out DIR [--duration S] [--rate R] [--concurrency C] [--timeout MS]`:
 * runs the scenarios and writes DIR/report.md, DIR/timeline.svg and DIR/records/.
 */
import { parseArgs } from "util";
import { proxyCost } from "./demo/proxyCost";
import { stallWrites } from "./demo/stallWrites";
import { fmt } from "./report/format";
import { runBench } from "./run";
import { Scenario } from "./scenario";

const USAGE = "usage: npm run bench -- --out DIR [--duration S] [--rate R] [--concurrency C] [--timeout MS]";

function number(name: string, text: string | undefined, fallback: number): number {
    const v = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got ${text}\n${USAGE}`);
    return v;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: { out: { type: "string" }, duration: { type: "string" }, rate: { type: "string" }, concurrency: { type: "string" }, timeout: { type: "string" } },
    });
    if (!values.out) throw new Error(USAGE);
    // The self-contained demonstration on 127.0.0.1. Lab scenarios (issue 5: DB master kill, partition,
    // replication lag, memcached kill, uploads, LB vs direct) are Scenario objects appended to this list;
    // they load from the client's namespace with ctx.load(name, spec, ["ip", "netns", "exec", NS]).
    const scenarios: Scenario[] = [proxyCost, stallWrites];
    const result = await runBench(scenarios, {
        outDir: values.out,
        durationSec: number("duration", values.duration, 10),
        rate: number("rate", values.rate, 200),
        concurrency: Math.round(number("concurrency", values.concurrency, 256)),
        timeoutMs: number("timeout", values.timeout, 1000),
        title: "dns-rr-ha bench",
        log: (line) => process.stderr.write(`${line}\n`),
    });
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
