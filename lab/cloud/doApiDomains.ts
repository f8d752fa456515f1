/**
 * DigitalOcean's domain-records endpoints (API v2) over the lab's DNS record
 * store, as request -> response logic: list (type / fully qualified name
 * filters, paging), get, create, delete. The store is injected
 * ({@link DomainRecordStore}: the lab's BIND state in the server, a Map in
 * tests), so this file never touches files or the network itself.
 */
import { z } from "zod";
import type { DnsRecord, DnsRecordType, StoredDnsRecord } from "../dns/dnsTypes";
import { normalizeZoneName, ownerName, recordFqdn, renderZone } from "../dns/zoneFile";
import { HttpResponse, jsonResponse } from "./doApiHttp";

/** What the routes get from a change of a zone: the new records (undefined = unchanged) and the answer. */
export interface DomainUpdate {
  records?: readonly DnsRecord[];
  result: HttpResponse;
}

/** The lab's DNS records as the API sees them (one store shared with the `up` process). */
export interface DomainRecordStore {
  /** A zone's current records; undefined if the lab does not serve that domain. */
  records(domain: string): readonly StoredDnsRecord[] | undefined;
  /**
   * Read-modify-write of a zone under the store's lock; resolves once DNS
   * serves the new records, or undefined if the domain is not served.
   * `newId` hands out a fresh record id.
   */
  update(domain: string, change: (current: readonly StoredDnsRecord[], newId: () => number) => DomainUpdate): Promise<{ result: HttpResponse } | undefined>;
}

/** A store that knows no domain (the API runs before the lab has a DNS server). */
export const NO_DOMAINS: DomainRecordStore = {
  records: () => undefined,
  update: () => Promise.resolve(undefined),
};

/** Builds DigitalOcean's error body; supplied by the router so every route answers alike. */
export type ErrorResponse = (status: number, id: string, message: string) => HttpResponse;

/** DigitalOcean's per_page default and maximum. */
const DEFAULT_PER_PAGE = 20;
const MAX_PER_PAGE = 200;
/** DigitalOcean's default TTL of a new record, and the smallest it accepts. */
const DEFAULT_TTL = 1800;
const MIN_TTL = 30;
const TYPES: readonly DnsRecordType[] = ["A", "AAAA", "CNAME", "TXT", "NS"];

/** A record as DigitalOcean answers it; `name` relative to the zone ("@" = apex). */
export function domainRecordJson(zone: string, r: StoredDnsRecord): Record<string, unknown> {
  return {
    id: r.id,
    type: r.type,
    name: ownerName(zone, r.name),
    data: r.value,
    priority: null,
    port: null,
    ttl: r.ttl,
    weight: null,
    flags: null,
    tag: null,
  };
}

const createBody = z.object({
  type: z.string(),
  name: z.string().min(1),
  data: z.string().min(1),
  ttl: z.number().int().min(MIN_TTL).max(2147483647).optional(),
  priority: z.number().int().nullable().optional(),
  port: z.number().int().nullable().optional(),
  weight: z.number().int().nullable().optional(),
  flags: z.number().int().nullable().optional(),
  tag: z.string().nullable().optional(),
});

/** Validates a create body into a record of `zone`, or the error to answer. */
function parseCreate(zone: string, body: string, error: ErrorResponse): DnsRecord | HttpResponse {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return error(400, "bad_request", "request body is not valid JSON");
  }
  const invalid = (message: string): HttpResponse => error(422, "unprocessable_entity", message);
  const parsed = createBody.safeParse(raw);
  if (!parsed.success) return invalid(parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
  const b = parsed.data;
  const type = b.type.toUpperCase() as DnsRecordType;
  if (!TYPES.includes(type)) return invalid(`type: must be one of ${TYPES.join(", ")} (the lab serves no ${b.type} records)`);
  if (type === "A" && !z.ipv4().safeParse(b.data).success) return invalid(`data: ${JSON.stringify(b.data)} is not an IPv4 address`);
  if (type === "AAAA" && !z.ipv6().safeParse(b.data).success) return invalid(`data: ${JSON.stringify(b.data)} is not an IPv6 address`);
  try {
    return { type, name: ownerName(zone, b.name), value: b.data, ttl: b.ttl ?? DEFAULT_TTL };
  } catch (e) {
    return invalid(`name: ${(e as Error).message}`);
  }
}

/** Undefined if the zone renders (what BIND would accept), else why not. */
function zoneProblem(zone: string, records: readonly DnsRecord[]): string | undefined {
  try {
    renderZone({ name: zone, records: [...records] }, { serial: 1, nsAddress: "192.0.2.1" });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function positiveInt(value: string | null, fallback: number): number | undefined {
  if (value === null || value === "") return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

function list(zone: string, records: readonly StoredDnsRecord[], query: URLSearchParams, baseUrl: string, path: string, headers: Record<string, string>, fail: ErrorResponse): HttpResponse {
  const page = positiveInt(query.get("page"), 1);
  const perPage = positiveInt(query.get("per_page"), DEFAULT_PER_PAGE);
  if (page === undefined || perPage === undefined) return fail(400, "bad_request", "page and per_page must be positive integers");
  const size = Math.min(perPage, MAX_PER_PAGE);
  const type = query.get("type");
  const name = query.get("name");
  const fqdn = name === null || name === "" ? undefined : name.replace(/\.$/, "").toLowerCase();
  const matching = records.filter((r) => {
    if (type !== null && type !== "" && r.type !== type.toUpperCase()) return false;
    return fqdn === undefined || recordFqdn(zone, r.name) === fqdn;
  });
  const last = Math.max(1, Math.ceil(matching.length / size));
  const pageUrl = (n: number): string => {
    const q = new URLSearchParams(query);
    q.set("page", String(n));
    q.set("per_page", String(size));
    return `${baseUrl}${path}?${q.toString()}`;
  };
  const pages: Record<string, string> = {};
  if (page > 1) Object.assign(pages, { first: pageUrl(1), prev: pageUrl(Math.min(page - 1, last)) });
  if (page < last) Object.assign(pages, { next: pageUrl(page + 1), last: pageUrl(last) });
  const shown = matching.slice((page - 1) * size, page * size).map((r) => domainRecordJson(zone, r));
  return jsonResponse(200, { domain_records: shown, links: Object.keys(pages).length > 0 ? { pages } : {}, meta: { total: matching.length } }, headers);
}

const NOT_FOUND = "The resource you were accessing could not be found.";

/**
 * Answers a request under /v2/domains/{domain}/records (already authenticated
 * and counted); undefined if `path` is not such a route. 404 for an unknown
 * domain or record id, 422 for an invalid record, 400 for bad JSON or paging.
 */
export async function handleDomainRecords(
  method: string,
  path: string,
  query: URLSearchParams,
  body: string,
  ctx: { domains: DomainRecordStore; baseUrl: string },
  headers: Record<string, string>,
  error: ErrorResponse,
): Promise<HttpResponse | undefined> {
  const m = /^\/v2\/domains\/([^/]+)\/records(?:\/([0-9]+))?$/.exec(path);
  if (!m) return undefined;
  const notFound = (): HttpResponse => error(404, "not_found", NOT_FOUND);
  let zone: string;
  try {
    zone = normalizeZoneName(decodeURIComponent(m[1] as string));
  } catch {
    return notFound();
  }
  const records = ctx.domains.records(zone);
  if (!records) return notFound();
  const id = m[2] === undefined ? undefined : Number(m[2]);

  if (id === undefined && method === "GET") return list(zone, records, query, ctx.baseUrl, path, headers, error);
  if (id !== undefined && method === "GET") {
    const r = records.find((x) => x.id === id);
    return r ? jsonResponse(200, { domain_record: domainRecordJson(zone, r) }, headers) : notFound();
  }
  if (id === undefined && method === "POST") {
    const record = parseCreate(zone, body, error);
    if ("status" in record) return record;
    const done = await ctx.domains.update(zone, (current, newId) => {
      const created = { ...record, id: newId() };
      const next = [...current, created];
      const problem = zoneProblem(zone, next);
      if (problem) return { result: error(422, "unprocessable_entity", problem) };
      return { records: next, result: jsonResponse(201, { domain_record: domainRecordJson(zone, created) }, headers) };
    });
    return done ? done.result : notFound();
  }
  if (id !== undefined && method === "DELETE") {
    const done = await ctx.domains.update(zone, (current) => {
      if (!current.some((r) => r.id === id)) return { result: notFound() };
      return { records: current.filter((r) => r.id !== id), result: { status: 204, headers: { ...headers }, body: "" } };
    });
    return done ? done.result : notFound();
  }
  return undefined;
}
