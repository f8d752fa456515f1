import { decide, Decision, INITIAL_TRACK, isActor, ObserverView, ProbeTrack, recordProbe, Verdict } from "./decision";
import { ApiError, Backoff, DoDnsApi, DomainRecord } from "./doDnsApi";
import type { ProbeResult } from "./probe";
import type { AgentSettings } from "./settings";
import { ViewRejected } from "./viewServer";

/** What the agent needs from the world; injected so tests drive it with a fake clock and network. */
export interface AgentDeps {
    readonly now: () => number;
    readonly probe: (url: string, hostHeader: string, timeoutMs: number) => Promise<ProbeResult>;
    /** Fetches a peer's view; rejects when the peer cannot be heard ({@link ViewRejected} when it answered unbelievably). */
    readonly fetchView: (url: string, timeoutMs: number) => Promise<ObserverView>;
    /** Undefined: no token, so the agent only says what it would do. */
    readonly api: DoDnsApi | undefined;
    /** One structured log line per decision, verdict change or API problem. */
    readonly log: (event: Record<string, unknown>) => void;
}

interface HeardView {
    readonly view: ObserverView;
    readonly at: number;
}

/** The agent's whole state, as its /status page shows it. */
export interface AgentStatus {
    readonly observer: string;
    readonly actor: boolean;
    readonly heard: readonly string[];
    readonly tracks: Readonly<Record<string, ProbeTrack>>;
    readonly published: readonly string[] | undefined;
    readonly lastDecision: (Omit<Decision, "publish"> & { readonly publish: readonly string[] }) | undefined;
    readonly apiWaitMs: number;
}

/**
 * One observer: probes every entry point, publishes its verdicts, hears the other observers, and,
 * when it is the actor, makes the domain's records match the majority's verdicts.
 */
export class DnsFailoverAgent {
    private readonly tracks = new Map<string, ProbeTrack>();
    private readonly heard = new Map<string, HeardView>();
    /** Peers whose last answer was rejected, and why: logged once per new reason. */
    private readonly rejected = new Map<string, string>();
    private published: { regions: Set<string>; records: DomainRecord[]; at: number } | undefined;
    /** Without a token: what the agent would have published. */
    private dryRunPublished: Set<string>;
    private readonly backoff = new Backoff();
    private lastDecision: Decision | undefined;
    private actor = false;
    private keptAsLast = "";

    constructor(private readonly s: AgentSettings, private readonly d: AgentDeps) {
        for (const e of s.entryPoints) this.tracks.set(e.region, INITIAL_TRACK);
        this.dryRunPublished = new Set(s.entryPoints.map((e) => e.region));
    }

    private get fqdn(): string {
        return this.s.recordName === "@" ? this.s.domain : `${this.s.recordName}.${this.s.domain}`;
    }

    /** This observer's verdicts, as peers fetch them. */
    public view(): ObserverView {
        const verdicts: Record<string, Verdict> = {};
        for (const [region, t] of this.tracks) verdicts[region] = t.verdict;
        return { observer: this.s.observer, verdicts };
    }

    public status(): AgentStatus {
        const now = this.d.now();
        return {
            observer: this.s.observer,
            actor: this.actor,
            heard: this.freshPeers(now).map((h) => h.view.observer),
            tracks: Object.fromEntries(this.tracks),
            published: this.d.api ? (this.published ? [...this.published.regions] : undefined) : [...this.dryRunPublished],
            // Sets do not survive JSON: the status page shows them as lists.
            lastDecision: this.lastDecision && { ...this.lastDecision, publish: [...this.lastDecision.publish] },
            apiWaitMs: this.backoff.waitMs(now),
        };
    }

    /** One round: probe, listen, then act if this observer is the actor. */
    public async tick(): Promise<void> {
        await Promise.all([this.probeAll(), this.hearPeers()]);
        await this.act();
    }

    private async probeAll(): Promise<void> {
        await Promise.all(this.s.entryPoints.map(async (e) => {
            const r = await this.d.probe(e.healthUrl, this.s.siteName, this.s.timeoutMs);
            const before = this.tracks.get(e.region) ?? INITIAL_TRACK;
            const after = recordProbe(before, r.ok, this.s);
            this.tracks.set(e.region, after);
            if (after.verdict !== before.verdict) {
                this.d.log({ event: "verdict", entryPoint: e.region, ip: e.ipv4, verdict: after.verdict, after: after.verdict === "down" ? after.failStreak : after.okStreak, probes: after.verdict === "down" ? "failed" : "healthy", last: r.detail });
            }
        }));
    }

    private async hearPeers(): Promise<void> {
        await Promise.all(this.s.peers.map(async (p) => {
            try {
                const view = await this.d.fetchView(p.url, this.s.timeoutMs);
                if (view.observer !== p.id) throw new ViewRejected(`answered as "${view.observer}"`);
                this.heard.set(p.id, { view, at: this.d.now() });
                if (this.rejected.delete(p.id)) this.d.log({ event: "peer-believed", peer: p.id });
            } catch (e) {
                // Not heard this round: its last view ages out after viewMaxAgeMs. A peer that answers
                // but cannot be believed (wrong vote key, replay, impostor) is worth an operator's look.
                if (!(e instanceof ViewRejected) || this.rejected.get(p.id) === e.message) return;
                this.rejected.set(p.id, e.message);
                this.d.log({ event: "peer-rejected", peer: p.id, url: p.url, reason: e.message });
            }
        }));
    }

    private freshPeers(now: number): HeardView[] {
        return [...this.heard.values()].filter((h) => now - h.at <= this.s.viewMaxAgeMs);
    }

    private async act(): Promise<void> {
        const now = this.d.now();
        const peers = this.freshPeers(now);
        const observers = [this.s.observer, ...this.s.peers.map((p) => p.id)];
        const actor = isActor(this.s.observer, observers, peers.map((h) => h.view.observer));
        if (actor !== this.actor) this.d.log({ event: actor ? "acting" : "standing-by", heard: peers.length + 1, of: observers.length });
        this.actor = actor;
        if (!actor) return;
        const views = [this.view(), ...peers.map((h) => h.view)];
        const regions = this.s.entryPoints.map((e) => e.region);

        if (!this.d.api) {
            const decision = decide({ entryPoints: regions, observers, views, published: this.dryRunPublished });
            this.report(decision, true);
            this.dryRunPublished = new Set(decision.publish);
            return;
        }
        if (!this.backoff.ready(now)) return;
        try {
            const cached = this.published;
            const stale = !cached || now - cached.at >= this.s.reconcileMs;
            if (!stale) {
                const calm = decide({ entryPoints: regions, observers, views, published: cached.regions });
                this.noteKeptAsLast(calm);
                if (calm.changes.length === 0) return;
            }
            // Something to change (or time to re-read): decide again on what the API says now.
            const records = await this.readRecords();
            const decision = decide({ entryPoints: regions, observers, views, published: records.regions });
            this.report(decision, false);
            await this.apply(decision, records.records);
            this.published = decision.changes.length === 0 ? records : await this.readRecords();
            this.backoff.succeeded();
        } catch (e) {
            const err = e instanceof ApiError ? e : new ApiError((e as Error).message, 0, 2_000);
            const wait = this.backoff.failed(this.d.now(), err.retryAfterMs);
            this.published = undefined;
            this.d.log({ event: "api-error", status: err.status, error: err.message, retryInMs: wait });
        }
    }

    private report(decision: Decision, dryRun: boolean): void {
        this.lastDecision = decision;
        for (const c of decision.changes) {
            const ep = this.s.entryPoints.find((e) => e.region === c.entryPoint)!;
            this.d.log({ event: dryRun ? `would-${c.action}` : c.action, entryPoint: c.entryPoint, ip: ep.ipv4, down: c.tally.down, up: c.tally.up, heard: c.tally.heard, observers: this.s.peers.length + 1 });
        }
        this.noteKeptAsLast(decision);
    }

    /** Logs when the last-record rule starts (or stops) keeping a record a majority calls down. */
    private noteKeptAsLast(decision: Decision): void {
        const kept = decision.keptAsLast.join(",");
        if (kept === this.keptAsLast) return;
        this.keptAsLast = kept;
        for (const region of decision.keptAsLast) {
            this.d.log({ event: "kept-last-record", entryPoint: region, reason: "a majority calls it down, but it is the last entry point published" });
        }
    }

    private async readRecords(): Promise<{ regions: Set<string>; records: DomainRecord[]; at: number }> {
        const a = await this.d.api!.list("A", this.fqdn);
        const hasV6 = this.s.entryPoints.some((e) => e.ipv6 !== undefined);
        const aaaa = hasV6 ? await this.d.api!.list("AAAA", this.fqdn) : [];
        const records = [...a, ...aaaa];
        const regions = new Set(this.s.entryPoints.filter((e) => a.some((r) => r.data === e.ipv4)).map((e) => e.region));
        return { regions, records, at: this.d.now() };
    }

    private async apply(decision: Decision, records: readonly DomainRecord[]): Promise<void> {
        for (const c of decision.changes) {
            const ep = this.s.entryPoints.find((e) => e.region === c.entryPoint)!;
            const wanted = [{ type: "A", data: ep.ipv4 }, ...(ep.ipv6 ? [{ type: "AAAA", data: ep.ipv6 }] : [])];
            for (const w of wanted) {
                const existing = records.filter((r) => r.type === w.type && r.data === w.data);
                if (c.action === "withdraw") {
                    for (const r of existing) await this.d.api!.remove(r.id);
                } else if (existing.length === 0) {
                    await this.d.api!.create({ type: w.type, name: this.s.recordName, data: w.data, ttl: this.s.ttl });
                }
            }
        }
    }
}
