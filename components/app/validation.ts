/**
 * Input checks shared by the app-tier renderers. Renderers interpolate these
 * values into config languages (nginx, ini, Lua, shell) where a stray quote,
 * semicolon or newline would change the meaning of the file, so every value is
 * checked against a narrow shape before it is written. Values of the wrong type are refused too
 * (callers may be plain JavaScript), and shown by the shared {@link show}, which never throws.
 */
import { show } from "../validation/assert";

const IPV4_OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4_RE = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);

/** True when `s` is a dotted-quad IPv4 address. */
export function isIPv4(s: string): boolean {
  return typeof s === "string" && IPV4_RE.test(s);
}

/** Throws unless `s` is an IPv4 address. */
export function assertIPv4(s: string, what: string): void {
  if (!isIPv4(s)) throw new Error(`${what}: not an IPv4 address: ${show(s)}`);
}

/** Throws unless `s` is an IPv4 CIDR (`a.b.c.d/n`) or a bare IPv4 address. */
export function assertIPv4Cidr(s: string, what: string): void {
  const [addr, bits, extra] = typeof s === "string" ? s.split("/") : [];
  const okBits = bits === undefined || (/^\d{1,2}$/.test(bits) && Number(bits) <= 32);
  if (extra !== undefined || addr === undefined || !isIPv4(addr) || !okBits) {
    throw new Error(`${what}: not an IPv4 CIDR: ${show(s)}`);
  }
}

/** Throws unless `s` is a host name or IPv4 address (no ports, no spaces). */
export function assertHost(s: string, what: string): void {
  const hostname = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
  if (typeof s !== "string" || (!isIPv4(s) && !hostname.test(s))) throw new Error(`${what}: not a host name or IPv4 address: ${show(s)}`);
}

/** Throws unless `n` is an integer TCP port 1..65535. */
export function assertPort(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${what}: not a TCP port: ${show(n)}`);
}

/** Throws unless `n` is an integer within [min, max]. */
export function assertIntInRange(n: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${what}: must be an integer in [${min}, ${max}], got ${show(n)}`);
}

/**
 * Throws unless `p` is an absolute path made of "boring" characters. Paths end
 * up unquoted in nginx/php-fpm configs and quoted in Lua, so spaces, quotes,
 * semicolons, braces and `$` are refused rather than escaped per language.
 */
export function assertSafeAbsPath(p: string, what: string): void {
  if (typeof p !== "string" || !/^\/[A-Za-z0-9._\/@+-]*$/.test(p) || p.includes("..") || p.includes("//")) {
    throw new Error(`${what}: not a safe absolute path: ${show(p)}`);
  }
}

/** Throws unless `s` is a URL path like `/fpm-status` (no query, no specials). */
export function assertUrlPath(s: string, what: string): void {
  if (typeof s !== "string" || !/^\/[A-Za-z0-9._\/-]*$/.test(s) || s.includes("..")) {
    throw new Error(`${what}: not a safe URL path: ${show(s)}`);
  }
}

/** Throws unless `s` is a POSIX-ish account / pool / unit name. */
export function assertName(s: string, what: string): void {
  if (typeof s !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(s)) throw new Error(`${what}: not a valid name: ${show(s)}`);
}
