import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DnsFailoverAgent } from "./agent";
import { DoDnsApi, DomainRecord, HttpAnswer, HttpCall, RequestBudget } from "./doDnsApi";
import type { AgentSettings } from "./settings";
import { ViewRejected } from "./viewServer";

/**
 * A simulated deployment: five agents (two LB pairs and a witness) in one process, a fake clock, a
 * network whose faults the test sets, and an in-memory DigitalOcean records API.
 */
const REGIONS = { nyc3: "192.0.2.10", ams3: "192.0.2.20" } as const;
type Region = keyof typeof REGIONS;
const OBSERVERS: Record<string, Region | "witness"> = { "lb-nyc3-1": "nyc3", "lb-nyc3-2": "nyc3", "lb-ams3-1": "ams3", "lb-ams3-2": "ams3", witness: "witness" };

class World {
    public now = 1_000_000;
    public records: DomainRecord[] = [];
    public calls: string[] = [];
    public logs: Record<string, unknown>[] = [];
    /** Entry points that do not answer. */
    public dark = new Set<Region>();
    /** Sites of observers that are down (no probes, no views). */
    public downSites = new Set<string>();
    /** Pairs of sites that cannot reach each other. */
    public cut: [string, string][] = [];
    /** Observers whose views fail verification (a wrong vote key): they answer, but are not believed. */
    public unsigned = new Set<string>();
    /** Answers the API gives instead of the normal one, consumed in order. */
    public apiFaults: HttpAnswer[] = [];
    private nextId = 100;
    public readonly agents: Map<string, DnsFailoverAgent> = new Map();

    constructor(withToken = true) {
        for (const ip of Object.values(REGIONS)) this.records.push({ id: this.nextId++, type: "A", name: "www", data: ip, ttl: 30 });
        for (const id of Object.keys(OBSERVERS)) this.agents.set(id, this.agent(id, withToken));
    }

    private blocked(a: string, b: string): boolean {
        return this.cut.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
    }

    private agent(id: string, withToken: boolean): DnsFailoverAgent {
        const site = OBSERVERS[id]!;
        const settings: AgentSettings = {
            observer: id,
            listen: { host: "127.0.0.1", port: 0 },
            peers: Object.keys(OBSERVERS).filter((o) => o !== id).map((o) => ({ id: o, url: `http://${o}` })),
            entryPoints: Object.entries(REGIONS).map(([region, ipv4]) => ({ region, ipv4, healthUrl: `http://${ipv4}/lb-health` })),
            siteName: "www.example.com", domain: "example.com", recordName: "www", ttl: 30,
            intervalMs: 1000, timeoutMs: 700, downAfter: 3, upAfter: 5, viewMaxAgeMs: 3500, reconcileMs: 30_000,
            apiUrl: "https://api.example", tokenFile: "/nonexistent", voteKeyFile: "/nonexistent", apiBudgetPerMinute: 60,
        };
        const api = withToken ? new DoDnsApi({
            apiUrl: settings.apiUrl, token: "t", domain: "example.com", budget: new RequestBudget(60), now: () => this.now,
            transport: async (call) => this.api(id, call),
        }) : undefined;
        return new DnsFailoverAgent(settings, {
            now: () => this.now,
            probe: async (url) => {
                const region = (Object.keys(REGIONS) as Region[]).find((r) => url.includes(REGIONS[r]))!;
                const ok = !this.dark.has(region) && !this.blocked(site, region);
                return { ok, ms: ok ? 5 : 700, detail: ok ? "200" : "no answer in 700 ms" };
            },
            fetchView: async (url) => {
                const peer = url.replace("http://", "");
                if (this.downSites.has(OBSERVERS[peer]!) || this.blocked(site, OBSERVERS[peer]!)) throw new Error("timeout");
                if (this.unsigned.has(peer)) throw new ViewRejected("the view's MAC does not match the vote key");
                return this.agents.get(peer)!.view();
            },
            api,
            log: (e) => this.logs.push({ observer: id, ...e }),
        });
    }

    private async api(caller: string, call: HttpCall): Promise<HttpAnswer> {
        this.calls.push(`${caller} ${call.method} ${call.url.replace("https://api.example", "")}`);
        const fault = this.apiFaults.shift();
        if (fault) return fault;
        const path = new URL(call.url).pathname;
        if (call.method === "GET") {
            const type = new URL(call.url).searchParams.get("type");
            return { status: 200, headers: {}, body: JSON.stringify({ domain_records: this.records.filter((r) => r.type === type), links: {}, meta: { total: 1 } }) };
        }
        if (call.method === "POST") {
            const r = { id: this.nextId++, ...(JSON.parse(call.body!) as Omit<DomainRecord, "id">) };
            this.records.push(r);
            return { status: 201, headers: {}, body: JSON.stringify({ domain_record: r }) };
        }
        const id = Number(path.split("/").pop());
        const before = this.records.length;
        this.records = this.records.filter((r) => r.id !== id);
        return { status: before === this.records.length ? 404 : 204, headers: {}, body: "" };
    }

    /** One second: every live agent ticks once. */
    public async second(n = 1): Promise<void> {
        for (let i = 0; i < n; i++) {
            this.now += 1000;
            for (const [id, agent] of this.agents) if (!this.downSites.has(OBSERVERS[id]!)) await agent.tick();
        }
    }

    public published(): string[] {
        return this.records.filter((r) => r.type === "A").map((r) => (Object.keys(REGIONS) as Region[]).find((k) => REGIONS[k] === r.data)!).sort();
    }
}

describe("DnsFailoverAgent (five simulated observers)", () => {
    test("a dark region is withdrawn by a majority within seconds, and restored after it heals", async () => {
        const w = new World();
        await w.second(3);
        assert.deepEqual(w.published(), ["ams3", "nyc3"]);
        w.dark.add("ams3");
        w.downSites.add("ams3");
        let seconds = 0;
        while (w.published().length === 2 && seconds < 20) { await w.second(); seconds++; }
        assert.deepEqual(w.published(), ["nyc3"]);
        assert.ok(seconds <= 5, `withdrawn after ${seconds} s`);
        const withdraw = w.logs.filter((l) => l.event === "withdraw");
        assert.equal(withdraw.length, 1, "one actor, one withdrawal");
        assert.deepEqual({ ...withdraw[0], observer: undefined }, { observer: undefined, event: "withdraw", entryPoint: "ams3", ip: REGIONS.ams3, down: 3, up: 0, heard: 3, observers: 5 });

        w.dark.delete("ams3");
        w.downSites.delete("ams3");
        seconds = 0;
        while (w.published().length === 1 && seconds < 20) { await w.second(); seconds++; }
        assert.deepEqual(w.published(), ["ams3", "nyc3"]);
        assert.ok(seconds >= 5, `restored after ${seconds} s: needs upAfter healthy probes`);
    });

    test("a partition between the regions (the witness sees both) withdraws nothing", async () => {
        const w = new World();
        await w.second(2);
        w.cut.push(["nyc3", "ams3"]);
        await w.second(15);
        assert.deepEqual(w.published(), ["ams3", "nyc3"]);
        assert.equal(w.logs.filter((l) => l.event === "withdraw").length, 0);
        assert.ok(w.logs.some((l) => l.event === "verdict" && l.verdict === "down"), "each side does see the other down");
    });

    test("a region cut off from everyone cannot withdraw the others; the majority, which cannot reach it, withdraws it", async () => {
        const w = new World();
        await w.second(2);
        w.cut.push(["nyc3", "ams3"], ["nyc3", "witness"]);
        await w.second(15);
        assert.deepEqual(w.published(), ["ams3"]);
        const withdrawals = w.logs.filter((l) => l.event === "withdraw");
        assert.deepEqual(withdrawals.map((l) => [l.observer, l.entryPoint]), [["lb-ams3-1", "nyc3"]]);
    });

    test("a peer whose views cannot be believed does not vote; each observer logs it once, and again when it is believed", async () => {
        const w = new World();
        await w.second(2);
        w.unsigned.add("witness");
        w.dark.add("ams3");
        w.downSites.add("ams3");
        await w.second(15);
        assert.deepEqual(w.published(), ["ams3", "nyc3"], "two believed votes of five are no majority");
        const rejected = w.logs.filter((l) => l.event === "peer-rejected");
        assert.deepEqual(rejected.map((l) => [l.observer, l.peer, l.reason]), [
            ["lb-nyc3-1", "witness", "the view's MAC does not match the vote key"],
            ["lb-nyc3-2", "witness", "the view's MAC does not match the vote key"],
        ]);
        assert.equal(w.logs.filter((l) => l.event === "withdraw").length, 0);
        w.unsigned.delete("witness");
        await w.second(3);
        assert.deepEqual(w.published(), ["nyc3"]);
        assert.equal(w.logs.filter((l) => l.event === "peer-believed" && l.peer === "witness").length, 2);
    });

    test("the last record stays when everything is dark", async () => {
        const w = new World();
        await w.second(2);
        w.dark.add("ams3");
        await w.second(8);
        assert.deepEqual(w.published(), ["nyc3"]);
        w.dark.add("nyc3");
        await w.second(10);
        assert.deepEqual(w.published(), ["nyc3"]);
        assert.ok(w.logs.some((l) => l.event === "kept-last-record" && l.entryPoint === "nyc3"));
    });

    test("a 429 makes the actor wait what the API asks, then it finishes the job", async () => {
        const w = new World();
        await w.second(2);
        w.dark.add("ams3");
        w.downSites.add("ams3");
        w.apiFaults.push({ status: 429, headers: { "retry-after": "6" }, body: '{"id":"too_many_requests"}' });
        await w.second(5);
        assert.deepEqual(w.published(), ["ams3", "nyc3"]);
        const err = w.logs.find((l) => l.event === "api-error")!;
        assert.equal(err.status, 429);
        assert.equal(err.retryInMs, 6000);
        const callsDuringWait = w.calls.length;
        await w.second(4);
        assert.equal(w.calls.length, callsDuringWait, "no call before Retry-After");
        await w.second(4);
        assert.deepEqual(w.published(), ["nyc3"]);
    });

    test("5xx and network errors back off exponentially; a record already gone counts as deleted", async () => {
        const w = new World();
        await w.second(2);
        w.dark.add("ams3");
        w.downSites.add("ams3");
        w.apiFaults.push({ status: 503, headers: {}, body: "" }, { status: 503, headers: {}, body: "" });
        await w.second(12);
        const waits = w.logs.filter((l) => l.event === "api-error").map((l) => l.retryInMs);
        assert.deepEqual(waits, [2000, 2000]);
        assert.deepEqual(w.published(), ["nyc3"]);
    });

    test("stays within its request budget while reconciling", async () => {
        const w = new World();
        await w.second(120);
        assert.ok(w.calls.length <= 6, `${w.calls.length} calls in 2 minutes of calm (a re-read every 30 s)`);
    });

    test("without a token it only logs what it would do", async () => {
        const w = new World(false);
        await w.second(2);
        w.dark.add("ams3");
        w.downSites.add("ams3");
        await w.second(6);
        assert.deepEqual(w.published(), ["ams3", "nyc3"]);
        assert.equal(w.calls.length, 0);
        assert.ok(w.logs.some((l) => l.event === "would-withdraw" && l.entryPoint === "ams3"));
    });
});
