/**
 * Starts the load generator as its own process and reads its results back. `wrap` puts a
 * command in front, e.g. `["ip", "netns", "exec", NS]` to load from inside a namespace.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseRecords, RequestRecord } from "../report/records";
import { LoadSummary } from "./run";
import { LoadSpec } from "./spec";

const MAIN = path.join(__dirname, "main.ts");
const TSX = require.resolve("tsx");

/** The summary the process printed and the records it wrote. */
export interface LoadResult {
    summary: LoadSummary;
    records: RequestRecord[];
}

/** Runs the load generator process on `spec` and resolves with its summary and records. */
export function runLoadgen(spec: LoadSpec, wrap: readonly string[] = []): Promise<LoadResult> {
    const argv = [...wrap, process.execPath, "--import", TSX, MAIN, JSON.stringify(spec)];
    const limitMs = (spec.durationSec * 1000 + spec.timeoutMs) * 2 + 60_000;
    return new Promise((resolve, reject) => {
        execFile(argv[0], argv.slice(1), { encoding: "utf8", timeout: limitMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            if (err) { reject(new Error(`loadgen failed: ${err.message}\n${stderr}`)); return; }
            try {
                resolve({ summary: JSON.parse(stdout) as LoadSummary, records: parseRecords(fs.readFileSync(spec.out, "utf8")) });
            } catch (e) {
                reject(e);
            }
        });
    });
}
