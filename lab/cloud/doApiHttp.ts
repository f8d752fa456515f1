/**
 * Plain request/response records for the DO API and metadata handlers, so
 * the handlers are pure functions testable without sockets.
 */

/** A request as the handlers see it. */
export interface HttpRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: string;
  /** Source IPv4 of the connection (droplets are identified by it). */
  fromIp: string;
}

/** A response to send. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A JSON response. */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { "content-type": "application/json; charset=utf-8", ...headers }, body: JSON.stringify(value) };
}

/** A text/plain response. */
export function textResponse(status: number, body: string): HttpResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body };
}

/** Path without query string and trailing slashes ("/" stays "/"). */
export function normalizePath(url: string): string {
  const bare = url.split("?")[0] ?? "";
  const trimmed = bare.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

/** Strips the IPv4-mapped IPv6 prefix a dual-stack socket may report. */
export function plainIpv4(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
