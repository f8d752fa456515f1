/**
 * The lab's data-safety scenarios as bench {@link Scenario}s, on the lab `state` given: durations
 * scale with `--duration`; each loads from the client's namespace (or an LB's, for the LB hop).
 */
import { LabState } from "../../lab/labState";
import { Scenario } from "../scenario";
import { applyLag, commitLatency, dbNodeKill, lbCost, memcachedKill, partitionHeal, uploads } from "./dataScenarios";

export function labScenarios(state: LabState): Scenario[] {
    return [
        // /healthz is cheap: ten times the write rate shows the hop's latency without saturating.
        { name: "LB cost", run: async (ctx) => (await lbCost({ ...ctx, rate: ctx.rate * 10 }, state, Math.min(ctx.durationSec, 15))).outcome },
        { name: "commit latency", run: async (ctx) => (await commitLatency(ctx, state, 50)).outcome },
        { name: "apply lag", run: async (ctx) => (await applyLag(ctx, state, ctx.durationSec)).outcome },
        { name: "DB node kill", run: async (ctx) => (await dbNodeKill(ctx, state, ctx.durationSec, ctx.durationSec / 3)).outcome },
        // A region cut off from both others for 30 s; the load runs 8 s longer around it.
        { name: "partition", run: async (ctx) => (await partitionHeal(ctx, state, Math.max(10, Math.min(30, ctx.durationSec)))).outcome },
        { name: "uploads", run: async (ctx) => (await uploads(ctx, state)).outcome },
        { name: "memcached kill", run: async (ctx) => (await memcachedKill(ctx, state, 6, Math.max(10, Math.round(ctx.durationSec / 2)))).outcome },
    ];
}
