/**
 * Demonstration scenario: the cost of a proxy hop, measured side by side in one run. Two load
 * generators start together at the same rate, one through a local keep-alive proxy, one
 * straight to the app behind it (both on 127.0.0.1, started here).
 */
import { sideBySide } from "../figures";
import { Scenario } from "../scenario";
import { overallStats } from "../report/stats";
import { buildTimeline, loadSeries } from "../report/timeline";
import { startDemoApp, startProxy } from "./servers";

const NAME = "local proxy vs direct (demo)";

/** The local proxy-vs-direct scenario. */
export const proxyCost: Scenario = {
    name: NAME,
    async run(ctx) {
        const app = await startDemoApp();
        const proxy = await startProxy(app.port);
        try {
            const spec = (port: number) => ({
                host: "127.0.0.1", port, hostHeader: "demo.local", paths: [{ path: "/whoami.json?write=0" }],
                rate: ctx.rate, durationSec: ctx.durationSec, concurrency: ctx.concurrency, timeoutMs: ctx.timeoutMs,
            });
            ctx.log(`proxy vs direct: ${ctx.rate} req/s each for ${ctx.durationSec} s`);
            const [via, direct] = await Promise.all([ctx.load("proxy-via", spec(proxy.port)), ctx.load("proxy-direct", spec(app.port))]);
            const a = { label: "through proxy", stats: overallStats(via.records, ctx.durationSec) };
            const b = { label: "direct to app", stats: overallStats(direct.records, ctx.durationSec) };
            const seconds = Math.ceil(ctx.durationSec);
            return {
                report: {
                    name: NAME,
                    description: "Two load generators at the same time and rate: one through a Node keep-alive proxy, one straight to the app. Both servers run on 127.0.0.1 in the bench process.",
                    figures: sideBySide(a, b),
                    loads: [a, b],
                },
                timeline: buildTimeline(seconds, [...loadSeries(via.records, seconds, "proxy"), ...loadSeries(direct.records, seconds, "direct")]),
            };
        } finally {
            await proxy.close();
            await app.close();
        }
    },
};
