/**
 * What a bench scenario is, and what it gets to run with.
 */
import { LoadResult } from "./loadgen/client";
import { LoadSpec } from "./loadgen/spec";
import { ScenarioReport } from "./report/markdown";
import { Timeline } from "./report/timeline";

/** What the bench hands every scenario. */
export interface BenchContext {
    /** Seconds of load per measurement. */
    durationSec: number;
    /** Requests per second per load generator. */
    rate: number;
    /** Most requests in flight per load generator. */
    concurrency: number;
    /** Per-request timeout, ms. */
    timeoutMs: number;
    /** Prints a progress line. */
    log(line: string): void;
    /**
     * Runs the load generator process; its records go to the run's folder as `name.ndjson`.
     * `wrap` prefixes the command, e.g. `["ip", "netns", "exec", NS]` to load from a namespace.
     */
    load(name: string, spec: Omit<LoadSpec, "out">, wrap?: readonly string[]): Promise<LoadResult>;
    /** Writes a scenario's own raw records (one JSON object a line) to the run's folder as `name.ndjson`, when the run keeps records. */
    saveRecords?(name: string, records: readonly unknown[]): void;
}

/** What a scenario measured: its rows of the report and its part of the timeline. */
export interface ScenarioOutcome {
    report: ScenarioReport;
    timeline: Timeline;
}

/** A measurement the bench runs, one after the other, each into the same report and chart. */
export interface Scenario {
    name: string;
    run(ctx: BenchContext): Promise<ScenarioOutcome>;
}
