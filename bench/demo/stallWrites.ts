/**
 * Demonstration scenario: writes and reads while the app stops answering for a while, then
 * a count of the acknowledged writes the app's store is missing (the check the lab does
 * against the database). The app runs on 127.0.0.1 in this process.
 */
import { Scenario } from "../scenario";
import { missingAckedKeys } from "../report/records";
import { overallStats } from "../report/stats";
import { buildTimeline, loadSeries } from "../report/timeline";
import { startDemoApp } from "./servers";

const NAME = "local app stalls under writes (demo)";

/** The local stall-and-writes scenario. */
export const stallWrites: Scenario = {
    name: NAME,
    async run(ctx) {
        // Silent for the middle 40% of the run: requests held longer than the timeout fail, later ones are answered late.
        const fromMs = Math.round(ctx.durationSec * 300);
        const toMs = Math.round(ctx.durationSec * 700);
        const app = await startDemoApp({ stallWindow: { fromMs, toMs } });
        try {
            ctx.log(`stall: ${ctx.rate} req/s for ${ctx.durationSec} s, app silent from ${fromMs} to ${toMs} ms`);
            const { records, summary } = await ctx.load("stall-writes", {
                host: "127.0.0.1", port: app.port, hostHeader: "demo.local",
                paths: [{ path: "/whoami.json?write=0", weight: 1 }, { path: "/whoami.json?write=0&key={key}&value={value}", weight: 1, ackJsonPath: "db.kv.id" }],
                rate: ctx.rate, durationSec: ctx.durationSec, concurrency: ctx.concurrency, timeoutMs: ctx.timeoutMs,
            });
            const lost = missingAckedKeys(records, new Set(app.stored.keys())).length;
            const markers = [{ t: fromMs / 1000, label: "app stops answering" }, { t: toMs / 1000, label: "app answers again" }];
            const seconds = Math.ceil(ctx.durationSec);
            const one = (name: string, label: string, value: number) => ({ name, unit: "writes", a: { label, value } });
            return {
                report: {
                    name: NAME,
                    description: "Half reads, half writes with unique keys; the app holds every request in a window (a stall, not a refusal), so requests time out while new ones keep starting on schedule. Writes count as acknowledged on HTTP 200 with db.kv.id in the answer; the app's store is then checked for every acknowledged key.",
                    figures: [
                        one("writes sent", "load generator", summary.writes),
                        one("writes acknowledged", "load generator", summary.acked),
                        one("acknowledged writes missing", "demo app store", lost),
                    ],
                    loads: [{ label: "reads + writes", stats: overallStats(records, ctx.durationSec) }],
                    markers,
                },
                timeline: buildTimeline(seconds, loadSeries(records, seconds, "stall"), markers),
            };
        } finally {
            await app.close();
        }
    },
};
