/**
 * The DNS failover agent's decision logic, pure: no clock, no sockets. Each observer turns its
 * own probes into a verdict per entry point (with hysteresis); the acting observer combines the
 * verdicts of every observer it can hear into the set of records to publish.
 */

export type Verdict = "up" | "down";

/** What one observer believes about one entry point. */
export interface ProbeTrack {
    readonly verdict: Verdict;
    /** Consecutive failed probes (0 after a success). */
    readonly failStreak: number;
    /** Consecutive successful probes (0 after a failure). */
    readonly okStreak: number;
}

export interface Thresholds {
    /** Consecutive failed probes before an observer calls an entry point down. */
    readonly downAfter: number;
    /** Consecutive healthy probes before it calls a down entry point up again. */
    readonly upAfter: number;
}

/** An observer starts out trusting every entry point: a fresh agent must not vote anything out. */
export const INITIAL_TRACK: ProbeTrack = { verdict: "up", failStreak: 0, okStreak: 0 };

/** Folds one probe result into a track. */
export function recordProbe(track: ProbeTrack, ok: boolean, t: Thresholds): ProbeTrack {
    if (ok) {
        const okStreak = track.okStreak + 1;
        const verdict: Verdict = track.verdict === "down" && okStreak >= t.upAfter ? "up" : track.verdict;
        return { verdict, failStreak: 0, okStreak };
    }
    const failStreak = track.failStreak + 1;
    const verdict: Verdict = track.verdict === "up" && failStreak >= t.downAfter ? "down" : track.verdict;
    return { verdict, failStreak, okStreak: 0 };
}

/** One observer's published verdicts, keyed by entry point id. */
export interface ObserverView {
    readonly observer: string;
    readonly verdicts: Readonly<Record<string, Verdict>>;
}

/** The tally for one entry point over the views the deciding observer could hear. */
export interface Tally {
    readonly entryPoint: string;
    readonly down: number;
    readonly up: number;
    /** Observers heard from (views fresh enough to count). */
    readonly heard: number;
}

export interface DecisionInput {
    /** Entry point ids, in the stack's order. */
    readonly entryPoints: readonly string[];
    /** Every configured observer's id, heard from or not: the majority is of all of them. */
    readonly observers: readonly string[];
    /** Fresh views (the decider's own included). Views of unknown observers are ignored. */
    readonly views: readonly ObserverView[];
    /** Entry points whose records are published now. */
    readonly published: ReadonlySet<string>;
}

export interface Change {
    readonly entryPoint: string;
    readonly action: "withdraw" | "restore";
    readonly tally: Tally;
}

export interface Decision {
    /** Entry points to publish. */
    readonly publish: ReadonlySet<string>;
    readonly changes: readonly Change[];
    readonly tallies: readonly Tally[];
    /** Entry points a majority calls down that stay published because they are the last ones. */
    readonly keptAsLast: readonly string[];
}

/** Votes needed: a strict majority of all configured observers. */
export function quorum(observerCount: number): number {
    return Math.floor(observerCount / 2) + 1;
}

/**
 * Decides which entry points to publish.
 * - Withdraw only when a majority of ALL observers (not of those heard) call it down: a side of a
 *   partition that hears only itself can never withdraw the other side.
 * - Restore only when a majority calls it up; without a majority either way, nothing changes.
 * - Never withdraw the last published entry point (even a bad record beats an empty answer, which
 *   resolvers would cache as NXDOMAIN/NODATA); if nothing is published, restore the least-doubted.
 */
export function decide(input: DecisionInput): Decision {
    const known = new Set(input.observers);
    const seen = new Set<string>();
    const views = input.views.filter((v) => known.has(v.observer) && !seen.has(v.observer) && seen.add(v.observer));
    const need = quorum(input.observers.length);
    const tallies: Tally[] = input.entryPoints.map((e) => ({
        entryPoint: e,
        down: views.filter((v) => v.verdicts[e] === "down").length,
        up: views.filter((v) => v.verdicts[e] === "up").length,
        heard: views.length,
    }));
    const publish = new Set<string>();
    for (const t of tallies) {
        const isPublished = input.published.has(t.entryPoint);
        if (t.down >= need) continue;
        if (isPublished || t.up >= need) publish.add(t.entryPoint);
    }
    const keptAsLast: string[] = [];
    if (publish.size === 0 && tallies.length > 0) {
        // Least-doubted first; among equals, one already published, then stack order.
        const best = [...tallies].sort((a, b) =>
            a.down - b.down || Number(input.published.has(b.entryPoint)) - Number(input.published.has(a.entryPoint)) || input.entryPoints.indexOf(a.entryPoint) - input.entryPoints.indexOf(b.entryPoint))[0]!;
        publish.add(best.entryPoint);
        if (best.down >= need) keptAsLast.push(best.entryPoint);
    }
    const changes: Change[] = tallies.flatMap((t): Change[] => {
        const was = input.published.has(t.entryPoint);
        const will = publish.has(t.entryPoint);
        if (was === will) return [];
        return [{ entryPoint: t.entryPoint, action: will ? "restore" : "withdraw", tally: t }];
    });
    return { publish, changes, tallies, keptAsLast };
}

/**
 * Whether `self` is the observer that acts: the first, by id, of those it hears, and only while it
 * hears a majority. Two sides of a partition can both pass the first test, never the second.
 */
export function isActor(self: string, observers: readonly string[], heard: readonly string[]): boolean {
    const live = observers.filter((o) => o === self || heard.includes(o));
    return live.length >= quorum(observers.length) && [...live].sort()[0] === self;
}
