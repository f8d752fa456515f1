/**
 * The slice of DigitalOcean's API v2 the agent uses: list, create and delete domain records.
 * Every call goes through a request budget (the 250 requests/minute per token is shared with
 * whatever else uses the token); errors come back typed, so the loop can back off correctly.
 */

export interface HttpCall {
    readonly method: "GET" | "POST" | "DELETE";
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: string;
}

export interface HttpAnswer {
    readonly status: number;
    /** Lower-case header names. */
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
}

export type Transport = (call: HttpCall) => Promise<HttpAnswer>;

/** A record as DigitalOcean returns it (the fields the agent reads). */
export interface DomainRecord {
    readonly id: number;
    readonly type: string;
    /** Relative to the domain: "www", or "@" for the apex. */
    readonly name: string;
    readonly data: string;
    readonly ttl: number;
}

/** The API refused or failed; `retryAfterMs` says when trying again makes sense. */
export class ApiError extends Error {
    constructor(message: string, public readonly status: number, public readonly retryAfterMs: number) {
        super(message);
        this.name = "ApiError";
    }
}

/** A sliding one-minute window of requests this agent allows itself. */
export class RequestBudget {
    private readonly sent: number[] = [];

    constructor(private readonly perMinute: number) {}

    /** Takes one request slot at `now`, or returns how many ms until one frees up. */
    public take(now: number): { ok: true } | { ok: false; waitMs: number } {
        while (this.sent.length > 0 && this.sent[0]! <= now - 60_000) this.sent.shift();
        if (this.sent.length >= this.perMinute) return { ok: false, waitMs: this.sent[0]! + 60_000 - now };
        this.sent.push(now);
        return { ok: true };
    }
}

/** How long to wait after a 429: Retry-After (seconds), else ratelimit-reset (epoch seconds), else a minute. */
export function retryAfterMs(headers: Readonly<Record<string, string>>, now: number): number {
    const after = Number(headers["retry-after"]);
    if (Number.isFinite(after) && after >= 0) return after * 1000;
    const reset = Number(headers["ratelimit-reset"]);
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now);
    return 60_000;
}

export interface DoDnsApiOptions {
    readonly apiUrl: string;
    readonly token: string;
    readonly domain: string;
    readonly transport: Transport;
    readonly budget: RequestBudget;
    readonly now: () => number;
}

export class DoDnsApi {
    constructor(private readonly o: DoDnsApiOptions) {}

    /** Records of one type and fully qualified name, every page. */
    public async list(type: string, fqdn: string): Promise<DomainRecord[]> {
        const all: DomainRecord[] = [];
        for (let page = 1; page <= 20; page++) {
            const q = `type=${encodeURIComponent(type)}&name=${encodeURIComponent(fqdn)}&per_page=200&page=${page}`;
            const body = await this.call("GET", `/v2/domains/${encodeURIComponent(this.o.domain)}/records?${q}`, 200) as {
                domain_records?: DomainRecord[]; links?: { pages?: { next?: string } };
            };
            if (!Array.isArray(body.domain_records)) throw new ApiError("list records: answer has no domain_records", 200, 5_000);
            all.push(...body.domain_records);
            if (!body.links?.pages?.next) return all;
        }
        return all;
    }

    public async create(record: Omit<DomainRecord, "id">): Promise<DomainRecord> {
        const body = await this.call("POST", `/v2/domains/${encodeURIComponent(this.o.domain)}/records`, 201, record) as { domain_record?: DomainRecord };
        if (!body.domain_record) throw new ApiError("create record: answer has no domain_record", 201, 5_000);
        return body.domain_record;
    }

    /** Deletes a record; one that is already gone counts as deleted. */
    public async remove(id: number): Promise<void> {
        await this.call("DELETE", `/v2/domains/${encodeURIComponent(this.o.domain)}/records/${id}`, 204, undefined, [404]);
    }

    private async call(method: HttpCall["method"], path: string, expect: number, body?: unknown, alsoFine: number[] = []): Promise<unknown> {
        const slot = this.o.budget.take(this.o.now());
        if (!slot.ok) throw new ApiError(`${method} ${path}: own budget spent, next slot in ${slot.waitMs} ms`, 0, slot.waitMs);
        let answer: HttpAnswer;
        try {
            answer = await this.o.transport({
                method,
                url: `${this.o.apiUrl.replace(/\/+$/, "")}${path}`,
                headers: {
                    authorization: `Bearer ${this.o.token}`,
                    "content-type": "application/json",
                },
                ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            });
        } catch (e) {
            throw new ApiError(`${method} ${path}: ${(e as Error).message}`, 0, 2_000);
        }
        if (answer.status === expect || alsoFine.includes(answer.status)) {
            return answer.body.trim() === "" ? {} : JSON.parse(answer.body) as unknown;
        }
        const message = `${method} ${path}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`;
        if (answer.status === 429) throw new ApiError(message, 429, retryAfterMs(answer.headers, this.o.now()));
        if (answer.status >= 500) throw new ApiError(message, answer.status, 2_000);
        // 401/403/404/422: retrying soon will not help; try again later in case an operator fixes it.
        throw new ApiError(message, answer.status, 30_000);
    }
}

/** Exponential backoff between failed API rounds, at least what the API asked for. */
export class Backoff {
    private failures = 0;
    private until = 0;

    public ready(now: number): boolean {
        return now >= this.until;
    }

    public waitMs(now: number): number {
        return Math.max(0, this.until - now);
    }

    public failed(now: number, atLeastMs: number): number {
        this.failures++;
        const exp = Math.min(30_000, 1_000 * 2 ** (this.failures - 1));
        const wait = Math.max(exp, atLeastMs);
        this.until = now + wait;
        return wait;
    }

    public succeeded(): void {
        this.failures = 0;
        this.until = 0;
    }
}
