/**
 * The part of DigitalOcean's public API (v2) the stack's agents use (the
 * reserved-IP takeover, the DNS failover agent), as request -> response
 * logic: bearer-token auth, the per-token rate limit, reserved IPs and their
 * actions, domain records (doApiDomains.ts). Moving an IP is left to the
 * caller's `startMove` (the server applies it to the fabric asynchronously
 * and then finishes the action) and records live in the injected
 * `domains` store, so this file never touches sockets, files or the network.
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { ActionStore, DoAction, actionJson, regionJson } from "./doApiActions";
import { DomainRecordStore, handleDomainRecords } from "./doApiDomains";
import { HttpRequest, HttpResponse, jsonResponse, normalizePath } from "./doApiHttp";
import { RateLimiter, rateLimitHeaders } from "./doApiRateLimit";
import type { DoApiDroplet, DoApiReservedIp, DoApiState } from "./doApiState";

/** What the API answers from. */
export interface ApiContext {
  state: DoApiState;
  /** Reserved IP -> holder host name (droplet name), live from the fabric. */
  holders: Record<string, string | null>;
  actions: ActionStore;
  limiter: RateLimiter;
  nowMs: number;
  /** Carries out an accepted action; `dropletName` null = unassign. Must not throw. */
  startMove(action: DoAction, dropletName: string | null): void;
  /** The lab's DNS records (domains the lab serves). */
  domains: DomainRecordStore;
}

function error(status: number, id: string, message: string, headers: Record<string, string> = {}): HttpResponse {
  return jsonResponse(status, { id, message, request_id: randomUUID() }, headers);
}

const NOT_FOUND = "The resource you were accessing could not be found.";

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return false;
  const given = Buffer.from(m[1] as string);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** The droplet object embedded in a reserved IP (the fields a client looks at). */
export function dropletJson(d: DoApiDroplet): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    status: "active",
    region: regionJson(d.region),
    networks: {
      v4: [
        { ip_address: d.publicIpv4, type: "public" },
        { ip_address: d.privateIpv4, type: "private" },
      ],
      v6: [],
    },
    tags: d.tags ?? [],
  };
}

function reservedIpJson(r: DoApiReservedIp, ctx: ApiContext): Record<string, unknown> {
  const holder = ctx.holders[r.ip] ?? null;
  const droplet = holder === null ? undefined : ctx.state.droplets.find((d) => d.name === holder);
  return {
    ip: r.ip,
    region: regionJson(r.region),
    droplet: droplet ? dropletJson(droplet) : null,
    // DigitalOcean locks a reserved IP while an action on it is pending.
    locked: ctx.actions.pendingFor(r.ip) !== undefined,
  };
}

const actionBody = z.object({
  type: z.enum(["assign", "unassign"]),
  droplet_id: z.number().int().positive().optional(),
});

function postAction(r: DoApiReservedIp, req: HttpRequest, ctx: ApiContext, headers: Record<string, string>): HttpResponse {
  let raw: unknown;
  try {
    raw = JSON.parse(req.body);
  } catch {
    return error(400, "bad_request", "request body is not valid JSON", headers);
  }
  const parsed = actionBody.safeParse(raw);
  if (!parsed.success) return error(422, "unprocessable_entity", `invalid action: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`, headers);
  const body = parsed.data;
  let target: DoApiDroplet | null = null;
  if (body.type === "assign") {
    if (body.droplet_id === undefined) return error(422, "unprocessable_entity", "droplet_id is required to assign a reserved IP", headers);
    target = ctx.state.droplets.find((d) => d.id === body.droplet_id) ?? null;
    if (!target) return error(404, "not_found", `Droplet ${body.droplet_id} could not be found.`, headers);
    if (target.region !== r.region) {
      return error(422, "unprocessable_entity", `The Droplet (${target.region}) must be in the same region as the reserved IP (${r.region}).`, headers);
    }
  } else if ((ctx.holders[r.ip] ?? null) === null) {
    return error(422, "unprocessable_entity", "The reserved IP is not assigned to a Droplet.", headers);
  }
  if (ctx.actions.pendingFor(r.ip)) return error(422, "unprocessable_entity", "The reserved IP already has a pending event.", headers);
  const action = ctx.actions.create(body.type === "assign" ? "assign_ip" : "unassign_ip", r.ip, r.region, ctx.nowMs);
  ctx.startMove(action, target ? target.name : null);
  return jsonResponse(201, { action: actionJson(action) }, headers);
}

function getAction(id: string, ip: string | undefined, ctx: ApiContext, headers: Record<string, string>): HttpResponse {
  const action = ctx.actions.get(Number(id));
  if (!action || (ip !== undefined && action.ip !== ip)) return error(404, "not_found", NOT_FOUND, headers);
  return jsonResponse(200, { action: actionJson(action) }, headers);
}

/**
 * Answers one API request. Order as DigitalOcean: authentication (401, not
 * counted), rate limit (429 with `ratelimit-*` and `retry-after`), then the
 * route (404 for unknown paths, IPs, droplets, actions, domains and records;
 * 422 for a droplet in another region, a pending action on the IP or an
 * invalid body). Resolves once a record change is served by DNS.
 */
export async function handleApiRequest(req: HttpRequest, ctx: ApiContext): Promise<HttpResponse> {
  if (!tokenMatches(req.headers.authorization, ctx.state.token)) {
    return error(401, "unauthorized", "Unable to authenticate you");
  }
  const decision = ctx.limiter.take(ctx.state.token, ctx.nowMs);
  const headers = rateLimitHeaders(decision, ctx.nowMs);
  if (!decision.allowed) return error(429, "too_many_requests", "API Rate limit exceeded.", headers);

  const path = normalizePath(req.path);
  const method = req.method.toUpperCase();
  const find = (ip: string): DoApiReservedIp | undefined => ctx.state.reservedIps.find((r) => r.ip === ip);
  let m: RegExpExecArray | null;

  if (method === "GET" && path === "/v2/reserved_ips") {
    const list = ctx.state.reservedIps.map((r) => reservedIpJson(r, ctx));
    return jsonResponse(200, { reserved_ips: list, links: {}, meta: { total: list.length } }, headers);
  }
  if ((m = /^\/v2\/reserved_ips\/([0-9.]+)$/.exec(path)) && method === "GET") {
    const r = find(m[1] as string);
    return r ? jsonResponse(200, { reserved_ip: reservedIpJson(r, ctx) }, headers) : error(404, "not_found", NOT_FOUND, headers);
  }
  if ((m = /^\/v2\/reserved_ips\/([0-9.]+)\/actions$/.exec(path)) && method === "POST") {
    const r = find(m[1] as string);
    return r ? postAction(r, req, ctx, headers) : error(404, "not_found", NOT_FOUND, headers);
  }
  if ((m = /^\/v2\/reserved_ips\/([0-9.]+)\/actions\/([0-9]+)$/.exec(path)) && method === "GET") {
    return getAction(m[2] as string, m[1] as string, ctx, headers);
  }
  if ((m = /^\/v2\/actions\/([0-9]+)$/.exec(path)) && method === "GET") {
    return getAction(m[1] as string, undefined, ctx, headers);
  }
  const query = new URL(req.path, "http://api.invalid").searchParams;
  const fail = (status: number, id: string, message: string): HttpResponse => error(status, id, message, headers);
  const records = await handleDomainRecords(method, path, query, req.body, { domains: ctx.domains, baseUrl: `http://${ctx.state.apiAddress}` }, headers, fail);
  return records ?? error(404, "not_found", NOT_FOUND, headers);
}
