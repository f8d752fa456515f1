import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DnsRecord, StoredDnsRecord } from "../dns/dnsTypes";
import { ActionStore, DoAction } from "./doApiActions";
import type { DomainRecordStore } from "./doApiDomains";
import type { HttpRequest } from "./doApiHttp";
import { RateLimiter } from "./doApiRateLimit";
import { ApiContext, handleApiRequest } from "./doApiRoutes";
import type { DoApiState } from "./doApiState";

const TOKEN = "secret-token";
const RIP = "203.0.113.10";
const ZONE = "dns-rr-ha.test";

/** The records the program would create (ids from the model), in a store like the DNS server's. */
function programRecords(): StoredDnsRecord[] {
  return [
    { id: 400020, type: "A", name: "www", value: "192.0.2.10", ttl: 30 },
    { id: 400021, type: "A", name: "www", value: "192.0.2.11", ttl: 30 },
    { id: 400022, type: "AAAA", name: "www", value: "2001:db8:a::1", ttl: 30 },
    { id: 400023, type: "A", name: "@", value: "192.0.2.10", ttl: 30 },
    { id: 400024, type: "TXT", name: "@", value: "lab", ttl: 300 },
  ];
}

/** An in-memory {@link DomainRecordStore}; `published` lists every new record set, as the DNS server would serve it. */
function memoryStore(zones: Record<string, StoredDnsRecord[]>): DomainRecordStore & { published: DnsRecord[][] } {
  let nextId = 100_000_001;
  const published: DnsRecord[][] = [];
  return {
    published,
    records: (domain) => zones[domain]?.map((r) => ({ ...r })),
    update: (domain, change) => {
      const current = zones[domain];
      if (!current) return Promise.resolve(undefined);
      const { records, result } = change(current.map((r) => ({ ...r })), () => nextId++);
      if (records) {
        zones[domain] = records.map((r) => ({ ...r, id: r.id ?? nextId++ }));
        published.push([...records]);
      }
      return Promise.resolve({ result });
    },
  };
}

function context(overrides: Partial<ApiContext> = {}): ApiContext & { moves: [DoAction, string | null][] } {
  const state: DoApiState = {
    version: 1,
    prefix: "dat",
    token: TOKEN,
    apiAddress: "192.0.2.2",
    rateLimitPerMinute: 250,
    droplets: [
      { id: 11, name: "lb-1", publicIpv4: "198.51.100.11", privateIpv4: "10.0.0.11", region: "nyc3" },
      { id: 21, name: "lb-ams", publicIpv4: "198.51.100.21", privateIpv4: "10.1.0.21", region: "ams3" },
    ],
    reservedIps: [{ ip: RIP, region: "nyc3" }],
  };
  const moves: [DoAction, string | null][] = [];
  return {
    state,
    holders: { [RIP]: null },
    actions: new ActionStore(500),
    limiter: new RateLimiter(250),
    nowMs: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
    startMove: (a, name) => moves.push([a, name]),
    domains: memoryStore({ [ZONE]: programRecords() }),
    moves,
    ...overrides,
  };
}

/** `token` null = no Authorization header. */
function req(method: string, path: string, body: unknown = undefined, token: string | null = TOKEN): HttpRequest {
  return {
    method,
    path,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    body: body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body),
    fromIp: "198.51.100.11",
  };
}

const parse = (body: string): Record<string, any> => JSON.parse(body) as Record<string, any>; // any: test-side probing of JSON

describe("DO API routes", () => {
  test("assign: 201 with DigitalOcean's action shape; the move is handed to startMove", async () => {
    const ctx = context();
    const r = await handleApiRequest(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 11 }), ctx);
    assert.equal(r.status, 201);
    assert.deepEqual(parse(r.body).action, {
      id: 500,
      status: "in-progress",
      type: "assign_ip",
      started_at: "2024-01-02T03:04:05Z",
      completed_at: null,
      resource_id: 3405803786,
      resource_type: "reserved_ip",
      region: { slug: "nyc3", name: "nyc3", available: true, features: [], sizes: [] },
      region_slug: "nyc3",
    });
    assert.equal(ctx.moves.length, 1);
    assert.equal(ctx.moves[0]?.[1], "lb-1");
    assert.equal(r.headers["ratelimit-limit"], "250");
  });

  test("GET reserved IP: droplet from the fabric's holder, locked while an action is pending", async () => {
    const ctx = context({ holders: { [RIP]: "lb-1" } });
    const before = parse((await handleApiRequest(req("GET", `/v2/reserved_ips/${RIP}`), ctx)).body).reserved_ip;
    assert.equal(before.droplet.id, 11);
    assert.equal(before.region.slug, "nyc3");
    assert.equal(before.locked, false);
    await handleApiRequest(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "unassign" }), ctx);
    assert.equal(ctx.moves[0]?.[1], null);
    assert.equal(parse((await handleApiRequest(req("GET", `/v2/reserved_ips/${RIP}`), ctx)).body).reserved_ip.locked, true);
    const free = context();
    assert.equal(parse((await handleApiRequest(req("GET", `/v2/reserved_ips/${RIP}`), free)).body).reserved_ip.droplet, null);
  });

  test("errors: 401 (not counted), 404 unknown IP/droplet/action/path, 422 region/pending/body, 400 bad JSON", async () => {
    const ctx = context({ limiter: new RateLimiter(100) });
    const status = async (r: HttpRequest): Promise<number> => (await handleApiRequest(r, ctx)).status;
    assert.equal(await status(req("GET", `/v2/reserved_ips/${RIP}`, undefined, null)), 401);
    assert.equal(await status(req("GET", `/v2/reserved_ips/${RIP}`, undefined, "wrong")), 401);
    assert.equal(await status(req("GET", `/v2/reserved_ips/${RIP}`, undefined, `${TOKEN}x`)), 401);
    assert.equal(await status(req("GET", "/v2/reserved_ips/203.0.113.99")), 404);
    assert.equal(await status(req("POST", "/v2/reserved_ips/203.0.113.99/actions", { type: "assign", droplet_id: 11 })), 404);
    assert.equal(await status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 99 })), 404);
    assert.equal(await status(req("GET", "/v2/actions/123")), 404);
    assert.equal(await status(req("GET", "/v2/droplets")), 404);
    assert.equal(await status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 21 })), 422);
    assert.equal(await status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign" })), 422);
    assert.equal(await status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "unassign" })), 422, "not assigned");
    assert.equal(await status(req("POST", `/v2/reserved_ips/${RIP}/actions`, "{nope")), 400);
    assert.equal(await status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 11 })), 201);
    assert.equal(await status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 11 })), 422, "pending");
    assert.equal(ctx.moves.length, 1, "refused actions must not move anything");
    // 3 × 401 were not counted: 100 - 11 counted requests.
    assert.equal((await handleApiRequest(req("GET", "/v2/reserved_ips"), ctx)).headers["ratelimit-remaining"], String(100 - 12));
  });

  test("actions: GET by id, scoped GET under the IP, completed after finish", async () => {
    const ctx = context();
    const id = parse((await handleApiRequest(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 11 }), ctx)).body).action.id as number;
    ctx.actions.finish(id, true, ctx.nowMs + 1000);
    const got = parse((await handleApiRequest(req("GET", `/v2/actions/${id}`), ctx)).body).action;
    assert.equal(got.status, "completed");
    assert.equal(got.completed_at, "2024-01-02T03:04:06Z");
    assert.equal((await handleApiRequest(req("GET", `/v2/reserved_ips/${RIP}/actions/${id}`), ctx)).status, 200);
    assert.equal((await handleApiRequest(req("GET", `/v2/reserved_ips/203.0.113.11/actions/${id}`), ctx)).status, 404);
  });

  test("429 once the limit is used up, with ratelimit-* headers", async () => {
    const ctx = context({ limiter: new RateLimiter(2) });
    for (let i = 0; i < 2; i++) assert.equal((await handleApiRequest(req("GET", "/v2/reserved_ips"), ctx)).status, 200);
    const r = await handleApiRequest(req("GET", "/v2/reserved_ips"), ctx);
    assert.equal(r.status, 429);
    assert.equal(parse(r.body).id, "too_many_requests");
    assert.equal(r.headers["ratelimit-remaining"], "0");
    assert.ok(Number(r.headers["retry-after"]) >= 1);
  });
});

describe("DO API domain records", () => {
  const base = `/v2/domains/${ZONE}/records`;
  const withStore = (limit = 250): ApiContext & { store: ReturnType<typeof memoryStore> } => {
    const store = memoryStore({ [ZONE]: programRecords() });
    return { ...context({ limiter: new RateLimiter(limit), domains: store }), store };
  };
  const call = async (ctx: ApiContext, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any>; headers: Record<string, string> }> => { // any: test-side probing of JSON
    const r = await handleApiRequest(req(method, path, body), ctx);
    return { status: r.status, json: r.body ? parse(r.body) : {}, headers: r.headers };
  };

  test("list: DigitalOcean's record shape, names relative to the zone, meta.total, rate-limit headers", async () => {
    const r = await call(withStore(), "GET", base);
    assert.equal(r.status, 200);
    assert.equal(r.json.meta.total, 5);
    assert.deepEqual(r.json.links, {});
    assert.deepEqual(r.json.domain_records[0], {
      id: 400020, type: "A", name: "www", data: "192.0.2.10", priority: null, port: null, ttl: 30, weight: null, flags: null, tag: null,
    });
    assert.deepEqual(r.json.domain_records.map((x: { name: string }) => x.name), ["www", "www", "www", "@", "@"]);
    assert.equal(r.headers["ratelimit-limit"], "250");
  });

  test("list filters: type, fully qualified name (apex too), both; a relative name matches nothing", async () => {
    const ctx = withStore();
    const ids = async (query: string): Promise<number[]> => (await call(ctx, "GET", `${base}?${query}`)).json.domain_records.map((x: { id: number }) => x.id);
    assert.deepEqual(await ids("type=A"), [400020, 400021, 400023]);
    assert.deepEqual(await ids(`name=www.${ZONE}`), [400020, 400021, 400022]);
    assert.deepEqual(await ids(`type=A&name=www.${ZONE}`), [400020, 400021]);
    assert.deepEqual(await ids(`type=AAAA&name=WWW.${ZONE}.`), [400022]);
    assert.deepEqual(await ids(`name=${ZONE}&type=TXT`), [400024]);
    assert.deepEqual(await ids("name=www"), []);
    assert.equal((await call(ctx, "GET", `${base}?type=A&name=www`)).json.meta.total, 0);
  });

  test("paging: per_page/page slices, meta.total is the whole match, links.pages as DigitalOcean", async () => {
    const ctx = withStore();
    const p1 = await call(ctx, "GET", `${base}?per_page=2`);
    assert.deepEqual(p1.json.domain_records.map((x: { id: number }) => x.id), [400020, 400021]);
    assert.equal(p1.json.meta.total, 5);
    assert.deepEqual(p1.json.links.pages, {
      next: `http://192.0.2.2${base}?per_page=2&page=2`,
      last: `http://192.0.2.2${base}?per_page=2&page=3`,
    });
    const p3 = await call(ctx, "GET", `${base}?per_page=2&page=3`);
    assert.deepEqual(p3.json.domain_records.map((x: { id: number }) => x.id), [400024]);
    assert.deepEqual(Object.keys(p3.json.links.pages), ["first", "prev"]);
    assert.deepEqual((await call(ctx, "GET", `${base}?type=A&per_page=1&page=2`)).json.domain_records.map((x: { id: number }) => x.id), [400021]);
    assert.deepEqual((await call(ctx, "GET", `${base}?page=9`)).json.domain_records, []);
    assert.equal((await call(ctx, "GET", `${base}?per_page=0`)).status, 400);
    assert.equal((await call(ctx, "GET", `${base}?page=x`)).status, 400);
  });

  test("get one by id; 404 for an unknown id, an unknown domain and a domain not served yet", async () => {
    const ctx = withStore();
    const r = await call(ctx, "GET", `${base}/400022`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.domain_record, { id: 400022, type: "AAAA", name: "www", data: "2001:db8:a::1", priority: null, port: null, ttl: 30, weight: null, flags: null, tag: null });
    assert.equal((await call(ctx, "GET", `${base}/999`)).status, 404);
    const unknown = await call(ctx, "GET", "/v2/domains/other.test/records");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.id, "not_found");
    assert.equal((await call(ctx, "POST", "/v2/domains/other.test/records", { type: "A", name: "www", data: "192.0.2.9", ttl: 30 })).status, 404);
    assert.equal((await call(ctx, "DELETE", "/v2/domains/other.test/records/400020")).status, 404);
    assert.equal((await call(ctx, "GET", "/v2/domains/bad..name/records")).status, 404);
    assert.equal((await call(ctx, "PUT", `${base}/400020`, {})).status, 404, "unsupported method");
  });

  test("create: 201 with a new id, stored and published; TTL defaults to 1800; a FQDN name with a dot is made relative", async () => {
    const ctx = withStore();
    const r = await call(ctx, "POST", base, { type: "A", name: "www", data: "192.0.2.12", ttl: 30 });
    assert.equal(r.status, 201);
    assert.deepEqual(r.json.domain_record, { id: 100_000_001, type: "A", name: "www", data: "192.0.2.12", priority: null, port: null, ttl: 30, weight: null, flags: null, tag: null });
    assert.equal(ctx.store.published.length, 1);
    assert.deepEqual(ctx.store.published[0]?.filter((x) => x.name === "www" && x.type === "A").map((x) => x.value), ["192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    assert.equal((await call(ctx, "GET", `${base}/100000001`)).json.domain_record.data, "192.0.2.12");
    const apex = await call(ctx, "POST", base, { type: "AAAA", name: `${ZONE}.`, data: "2001:db8:a::2" });
    assert.equal(apex.status, 201);
    assert.equal(apex.json.domain_record.name, "@");
    assert.equal(apex.json.domain_record.ttl, 1800);
    assert.equal(apex.json.domain_record.id, 100_000_002);
  });

  test("create: 422 for a bad type, an A that is not IPv4, an AAAA that is not IPv6, ttl < 30, missing fields, a CNAME clash; 400 bad JSON; nothing published", async () => {
    const ctx = withStore();
    const status = async (body: unknown): Promise<number> => (await call(ctx, "POST", base, body)).status;
    assert.equal(await status({ type: "BOGUS", name: "www", data: "192.0.2.9", ttl: 30 }), 422);
    assert.equal(await status({ type: "MX", name: "@", data: "mail.example.", ttl: 30 }), 422);
    assert.equal(await status({ type: "A", name: "www", data: "2001:db8::1", ttl: 30 }), 422);
    assert.equal(await status({ type: "A", name: "www", data: "192.0.2.300", ttl: 30 }), 422);
    assert.equal(await status({ type: "AAAA", name: "www", data: "192.0.2.9", ttl: 30 }), 422);
    assert.equal(await status({ type: "A", name: "www", data: "192.0.2.9", ttl: 29 }), 422);
    assert.equal(await status({ type: "A", name: "www", data: "192.0.2.9", ttl: 30.5 }), 422);
    assert.equal(await status({ type: "A", data: "192.0.2.9" }), 422);
    assert.equal(await status({ type: "A", name: "bad name!", data: "192.0.2.9" }), 422);
    assert.equal(await status({ type: "A", name: "www.other.test.", data: "192.0.2.9" }), 422);
    assert.equal(await status({ type: "CNAME", name: "www", data: "elsewhere.test." }), 422, "CNAME next to A");
    const body = (await call(ctx, "POST", base, { type: "A", name: "www", data: "nope", ttl: 30 })).json;
    assert.equal(body.id, "unprocessable_entity");
    assert.match(body.message, /IPv4/);
    assert.equal(await status("{nope"), 400);
    assert.equal(ctx.store.published.length, 0);
    assert.equal((await call(ctx, "GET", base)).json.meta.total, 5);
  });

  test("delete: 204 empty body, gone from the list and published; 404 the second time", async () => {
    const ctx = withStore();
    const r = await handleApiRequest(req("DELETE", `${base}/400021`), ctx);
    assert.equal(r.status, 204);
    assert.equal(r.body, "");
    assert.equal(r.headers["ratelimit-limit"], "250");
    assert.deepEqual((await call(ctx, "GET", `${base}?type=A&name=www.${ZONE}`)).json.domain_records.map((x: { data: string }) => x.data), ["192.0.2.10"]);
    assert.equal(ctx.store.published.length, 1);
    assert.equal((await call(ctx, "DELETE", `${base}/400021`)).status, 404);
    assert.equal(ctx.store.published.length, 1, "a 404 publishes nothing");
  });

  test("401 without the token (not counted), then every domain request counts; 429 with headers", async () => {
    const ctx = withStore(3);
    assert.equal((await handleApiRequest(req("GET", base, undefined, null), ctx)).status, 401);
    assert.equal((await handleApiRequest(req("DELETE", `${base}/400020`, undefined, "wrong"), ctx)).status, 401);
    assert.equal(ctx.store.published.length, 0, "an unauthenticated delete changes nothing");
    assert.equal((await call(ctx, "GET", base)).headers["ratelimit-remaining"], "2");
    assert.equal((await call(ctx, "POST", base, { type: "A", name: "x", data: "192.0.2.9", ttl: 30 })).headers["ratelimit-remaining"], "1");
    assert.equal((await call(ctx, "DELETE", `${base}/400020`)).headers["ratelimit-remaining"], "0");
    const over = await call(ctx, "DELETE", `${base}/400023`);
    assert.equal(over.status, 429);
    assert.equal(over.json.id, "too_many_requests");
    assert.equal(over.headers["ratelimit-remaining"], "0");
    assert.ok(Number(over.headers["retry-after"]) >= 1);
    assert.equal(ctx.store.published.length, 2, "the refused delete changed nothing");
  });
});
