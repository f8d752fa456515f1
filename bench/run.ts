/**
 * Runs scenarios one after the other and writes the report and the timeline chart.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runLoadgen } from "./loadgen/client";
import { BenchReport, renderMarkdown } from "./report/markdown";
import { renderTimelineSvg } from "./report/svg";
import { concatTimelines } from "./report/timeline";
import { BenchContext, Scenario, ScenarioOutcome } from "./scenario";

/** The run's settings: where to write, and the load every scenario gets. */
export interface BenchOptions {
    outDir: string;
    durationSec: number;
    rate: number;
    concurrency: number;
    timeoutMs: number;
    title: string;
    log(line: string): void;
}

/** Where the run wrote its files, and what each scenario measured. */
export interface BenchResult {
    reportPath: string;
    svgPath: string;
    outcomes: ScenarioOutcome[];
}

/** Runs `scenarios` in order; writes `report.md`, `timeline.svg` and `records/*.ndjson` into `outDir`. */
export async function runBench(scenarios: readonly Scenario[], o: BenchOptions): Promise<BenchResult> {
    const recordsDir = path.join(o.outDir, "records");
    fs.mkdirSync(recordsDir, { recursive: true });
    const recordsFile = (name: string) => path.join(recordsDir, `${name.replace(/[^\w.-]/g, "_")}.ndjson`);
    const ctx: BenchContext = {
        durationSec: o.durationSec, rate: o.rate, concurrency: o.concurrency, timeoutMs: o.timeoutMs, log: o.log,
        load: (name, spec, wrap) => runLoadgen({ ...spec, out: recordsFile(name) }, wrap),
        saveRecords: (name, records) => fs.writeFileSync(recordsFile(name), records.map((r) => `${JSON.stringify(r)}\n`).join("")),
    };
    const started = new Date();
    const outcomes: ScenarioOutcome[] = [];
    for (const s of scenarios) {
        o.log(`== ${s.name}`);
        outcomes.push(await s.run(ctx));
    }
    const svgPath = path.join(o.outDir, "timeline.svg");
    const timeline = concatTimelines(outcomes.map((x) => ({ title: x.report.name, timeline: x.timeline })));
    fs.writeFileSync(svgPath, renderTimelineSvg(timeline, { title: `${o.title}: per second, faults marked` }));
    const report: BenchReport = {
        title: o.title,
        parameters: {
            started: started.toISOString(),
            "load per measurement": `${o.rate} req/s for ${o.durationSec} s (open loop)`,
            "concurrency cap": o.concurrency,
            "request timeout": `${o.timeoutMs} ms`,
            machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
            "raw records": "records/*.ndjson",
        },
        scenarios: outcomes.map((x) => x.report),
        timelineSvg: "timeline.svg",
    };
    const reportPath = path.join(o.outDir, "report.md");
    fs.writeFileSync(reportPath, renderMarkdown(report));
    return { reportPath, svgPath, outcomes };
}
