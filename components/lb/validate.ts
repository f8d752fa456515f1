/**
 * Small field validators shared by the load-balancer renderers.
 *
 * Each throws an Error whose message starts with the full field path (e.g.
 * `HaproxySettings.servers[2].port`) so a bad stack config points straight at
 * the offending value instead of surfacing later as a cryptic daemon error.
 * Values are shown by the shared {@link show}, which never throws, whatever the caller passed.
 */
import { isIPv4 } from "node:net";
import { isHostName, show } from "../validation/assert";

/** Throws `Error("<field>: <problem>")`. */
export function fail(field: string, problem: string): never {
  throw new Error(`${field}: ${problem}`);
}

/** Asserts an integer within [min, max]. */
export function assertIntInRange(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(field, `must be an integer in ${min}..${max}, got ${show(value)}`);
  }
}

/** Asserts a TCP port number (1..65535). */
export function assertPort(field: string, value: number): void {
  assertIntInRange(field, value, 1, 65535);
}

/** Asserts a dotted-quad IPv4 address. */
export function assertIPv4(field: string, value: string): void {
  if (typeof value !== "string" || !isIPv4(value)) {
    fail(field, `must be an IPv4 address, got ${show(value)}`);
  }
}

/**
 * Config-token names (server names, regions, router ids) end up unquoted in
 * haproxy/keepalived configs, where whitespace or quotes would split or break
 * the line; restrict them to a safe alphabet.
 */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Asserts a name usable as a bare config token. */
export function assertName(field: string, value: string): void {
  if (typeof value !== "string" || !SAFE_NAME.test(value)) {
    fail(field, `must match ${SAFE_NAME} (letters, digits, '.', '_', '-'; no spaces), got ${show(value)}`);
  }
}

/** Asserts an RFC 1123 host name (what goes into a Host header). */
export function assertHostname(field: string, value: string): void {
  if (typeof value !== "string" || !isHostName(value)) fail(field, `must be a DNS host name like "www.example.com", got ${show(value)}`);
}

/** Asserts an absolute path without whitespace or quotes (it is embedded in quoted config strings). */
export function assertAbsolutePath(field: string, value: string): void {
  if (typeof value !== "string" || !/^\/[^\s"'\\]*$/.test(value)) {
    fail(field, `must be an absolute path without spaces or quotes, got ${show(value)}`);
  }
}
