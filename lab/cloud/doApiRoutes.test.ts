import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ActionStore, DoAction } from "./doApiActions";
import type { HttpRequest } from "./doApiHttp";
import { RateLimiter } from "./doApiRateLimit";
import { ApiContext, handleApiRequest } from "./doApiRoutes";
import type { DoApiState } from "./doApiState";

const TOKEN = "secret-token";
const RIP = "203.0.113.10";

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
  test("assign: 201 with DigitalOcean's action shape; the move is handed to startMove", () => {
    const ctx = context();
    const r = handleApiRequest(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 11 }), ctx);
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

  test("GET reserved IP: droplet from the fabric's holder, locked while an action is pending", () => {
    const ctx = context({ holders: { [RIP]: "lb-1" } });
    const before = parse(handleApiRequest(req("GET", `/v2/reserved_ips/${RIP}`), ctx).body).reserved_ip;
    assert.equal(before.droplet.id, 11);
    assert.equal(before.region.slug, "nyc3");
    assert.equal(before.locked, false);
    handleApiRequest(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "unassign" }), ctx);
    assert.equal(ctx.moves[0]?.[1], null);
    assert.equal(parse(handleApiRequest(req("GET", `/v2/reserved_ips/${RIP}`), ctx).body).reserved_ip.locked, true);
    const free = context();
    assert.equal(parse(handleApiRequest(req("GET", `/v2/reserved_ips/${RIP}`), free).body).reserved_ip.droplet, null);
  });

  test("errors: 401 (not counted), 404 unknown IP/droplet/action/path, 422 region/pending/body, 400 bad JSON", () => {
    const ctx = context({ limiter: new RateLimiter(100) });
    const status = (r: HttpRequest): number => handleApiRequest(r, ctx).status;
    assert.equal(status(req("GET", `/v2/reserved_ips/${RIP}`, undefined, null)), 401);
    assert.equal(status(req("GET", `/v2/reserved_ips/${RIP}`, undefined, "wrong")), 401);
    assert.equal(status(req("GET", `/v2/reserved_ips/${RIP}`, undefined, `${TOKEN}x`)), 401);
    assert.equal(status(req("GET", "/v2/reserved_ips/203.0.113.99")), 404);
    assert.equal(status(req("POST", "/v2/reserved_ips/203.0.113.99/actions", { type: "assign", droplet_id: 11 })), 404);
    assert.equal(status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 99 })), 404);
    assert.equal(status(req("GET", "/v2/actions/123")), 404);
    assert.equal(status(req("GET", "/v2/droplets")), 404);
    assert.equal(status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 21 })), 422);
    assert.equal(status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign" })), 422);
    assert.equal(status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "unassign" })), 422, "not assigned");
    assert.equal(status(req("POST", `/v2/reserved_ips/${RIP}/actions`, "{nope")), 400);
    assert.equal(status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 11 })), 201);
    assert.equal(status(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 11 })), 422, "pending");
    assert.equal(ctx.moves.length, 1, "refused actions must not move anything");
    // 3 × 401 were not counted: 100 - 11 counted requests.
    assert.equal(handleApiRequest(req("GET", "/v2/reserved_ips"), ctx).headers["ratelimit-remaining"], String(100 - 12));
  });

  test("actions: GET by id, scoped GET under the IP, completed after finish", () => {
    const ctx = context();
    const id = parse(handleApiRequest(req("POST", `/v2/reserved_ips/${RIP}/actions`, { type: "assign", droplet_id: 11 }), ctx).body).action.id as number;
    ctx.actions.finish(id, true, ctx.nowMs + 1000);
    const got = parse(handleApiRequest(req("GET", `/v2/actions/${id}`), ctx).body).action;
    assert.equal(got.status, "completed");
    assert.equal(got.completed_at, "2024-01-02T03:04:06Z");
    assert.equal(handleApiRequest(req("GET", `/v2/reserved_ips/${RIP}/actions/${id}`), ctx).status, 200);
    assert.equal(handleApiRequest(req("GET", `/v2/reserved_ips/203.0.113.11/actions/${id}`), ctx).status, 404);
  });

  test("429 once the limit is used up, with ratelimit-* headers", () => {
    const ctx = context({ limiter: new RateLimiter(2) });
    for (let i = 0; i < 2; i++) assert.equal(handleApiRequest(req("GET", "/v2/reserved_ips"), ctx).status, 200);
    const r = handleApiRequest(req("GET", "/v2/reserved_ips"), ctx);
    assert.equal(r.status, 429);
    assert.equal(parse(r.body).id, "too_many_requests");
    assert.equal(r.headers["ratelimit-remaining"], "0");
    assert.ok(Number(r.headers["retry-after"]) >= 1);
  });
});
