/**
 * Checks for args that users hand the components from their own stacks, possibly plain JavaScript:
 * every field is type-checked before it is used, and a rejection reads
 * `<Args>.<field> <value>: <what is allowed>`, the value rendered by {@link show}, which never
 * throws (null-prototype objects, symbols, BigInt, cycles, throwing getters).
 */
import * as pulumi from "@pulumi/pulumi";
import { parseCidr } from "../config/cidr";

const MAX_SHOWN = 200;
const MAX_ITEMS = 10;
const MAX_DEPTH = 3;

/** A value as a message shows it: JSON-like (`"nyc3"`, `30`, `null`, `{"a":[1]}`), cut at 200 characters. */
export function show(value: unknown): string {
    let text: string;
    try {
        text = render(value, []);
    } catch {
        text = "(unprintable value)";
    }
    return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

function render(value: unknown, ancestors: readonly object[]): string {
    switch (typeof value) {
        case "string": return JSON.stringify(value);
        case "number": return Object.is(value, -0) ? "-0" : String(value);
        case "bigint": return `${value.toString()}n`;
        case "symbol": return value.toString();
        case "boolean": return String(value);
        case "undefined": return "undefined";
        case "function": return "(a function)";
    }
    if (value === null) return "null";
    const obj = value as object;
    if (pulumi.Output.isInstance(obj)) return "(a pulumi Output)";
    if (obj instanceof Promise) return "(a Promise)";
    if (ancestors.includes(obj)) return "(circular)";
    if (ancestors.length >= MAX_DEPTH) return Array.isArray(obj) ? "[…]" : "{…}";
    const inner = [...ancestors, obj];
    const item = (get: () => unknown) => {
        try {
            return render(get(), inner);
        } catch {
            return "(unreadable)";
        }
    };
    const more = (n: number) => (n > MAX_ITEMS ? ",…" : "");
    if (Array.isArray(obj)) {
        return `[${obj.slice(0, MAX_ITEMS).map((_, i) => item(() => obj[i] as unknown)).join(",")}${more(obj.length)}]`;
    }
    const keys = Object.keys(obj);
    const body = keys.slice(0, MAX_ITEMS).map((k) => `${JSON.stringify(k)}:${item(() => (obj as Record<string, unknown>)[k])}`).join(",");
    const proto = Object.getPrototypeOf(obj) as object | null;
    const kind = proto === null || proto === Object.prototype ? "" : `${String((proto as { constructor?: { name?: unknown } }).constructor?.name ?? "object")} `;
    return `${kind}{${body}${more(keys.length)}}`;
}

/** Throws `Error("<field> <value>: <allowed>")`. */
export function fail(field: string, value: unknown, allowed: string): never {
    throw new Error(`${field} ${show(value)}: ${allowed}`);
}

/** A plain object (not null, not a list): what args and their nested records must be. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A value Pulumi resolves later: an Output or a Promise (what `pulumi.Input` allows besides the value itself). */
export function isPending(value: unknown): boolean {
    return pulumi.Output.isInstance(value) || value instanceof Promise;
}

/** The args object itself: a record whose fields the checks read. */
export function assertArgs(name: string, args: unknown): Readonly<Record<string, unknown>> {
    if (!isRecord(args)) fail(name, args, `must be an object of ${name} fields`);
    return args;
}

export function assertRecord(field: string, value: unknown, allowed: string): asserts value is Readonly<Record<string, unknown>> {
    if (!isRecord(value)) fail(field, value, allowed);
}

/** A list without holes (a sparse list would skip its holes in forEach and map). */
export function assertList(field: string, value: unknown, allowed: string): asserts value is readonly unknown[] {
    if (!Array.isArray(value)) fail(field, value, allowed);
    for (let i = 0; i < value.length; i++) {
        if (!(i in value)) fail(`${field}[${i}]`, undefined, `is a hole in the list; ${allowed}`);
    }
}

export function assertBoolean(field: string, value: unknown, allowed = "must be true or false"): asserts value is boolean {
    if (typeof value !== "boolean") fail(field, value, allowed);
}

/** A string matching `pattern` (or any string without one). */
export function assertString(field: string, value: unknown, allowed: string, pattern?: RegExp | ((s: string) => boolean)): asserts value is string {
    const ok = typeof value === "string" && (pattern === undefined || (typeof pattern === "function" ? pattern(value) : pattern.test(value)));
    if (!ok) fail(field, value, allowed);
}

/** A whole number from `min` to `max`. */
export function assertInt(field: string, value: unknown, min: number, max: number, allowed = `must be a whole number from ${min} to ${max}`): asserts value is number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) fail(field, value, allowed);
}

/** A `pulumi.Input`: an Output or Promise (checked when it resolves), or a value passing `check`. */
export function assertInput(field: string, value: unknown, check: (v: unknown) => boolean, allowed: string): void {
    if (!isPending(value) && !check(value)) fail(field, value, allowed);
}

/** {@link assertInput} for a secret: a rejection describes the value (set or not, its type, its length) and never shows it. */
export function assertSecretInput(field: string, value: unknown, check: (v: unknown) => boolean, allowed: string): void {
    if (isPending(value) || check(value)) return;
    const what = value === undefined ? "not set" : typeof value === "string" ? `secret, ${value.length} characters` : `secret, not a string`;
    throw new Error(`${field} (${what}): ${allowed}`);
}

/** A `pulumi.Input` of a list: an Output or Promise, or a list whose every element passes `check`. */
export function assertInputList(field: string, value: unknown, check: (v: unknown) => boolean, allowed: string): void {
    if (isPending(value)) return;
    assertList(field, value, allowed);
    value.forEach((v, i) => assertInput(`${field}[${i}]`, v, check, allowed));
}

export const isString = (v: unknown): v is string => typeof v === "string";
export const isNonEmptyString = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/** The index of the first value seen before, if any. */
export function firstRepeat<T>(values: readonly T[]): number | undefined {
    const i = values.findIndex((v, i) => values.indexOf(v) !== i);
    return i < 0 ? undefined : i;
}

/**
 * A list of at least one CIDR block, IPv4 only with `ipv4Only`; `whyOne` ends the message for an
 * empty list, e.g. "must list at least one CIDR: SSH would be unreachable".
 */
export function assertCidrList(field: string, value: unknown, whyOne: string, ipv4Only: boolean): asserts value is readonly string[] {
    const example = ipv4Only ? "\"10.110.0.0/20\"" : "\"203.0.113.7/32\"";
    assertList(field, value, `must be a list of CIDR blocks such as [${example}]`);
    if (value.length === 0) throw new Error(`${field} ${whyOne}`);
    value.forEach((c, i) => assertString(`${field}[${i}]`, c, ipv4Only ? `must be an IPv4 CIDR such as ${example}` : `must be a CIDR block such as ${example}`,
        (s) => { const p = parseCidr(s); return p !== undefined && (!ipv4Only || p.family === 4); }));
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** An RFC 1123 host name such as "www.example.com" (what goes into a Host header). */
export function isHostName(s: string): boolean {
    return s.length > 0 && s.length <= 253 && s.split(".").every((label) => HOST_LABEL.test(label));
}

export function assertHostName(field: string, value: unknown): asserts value is string {
    assertString(field, value, "must be a DNS host name such as \"www.example.com\"", isHostName);
}

/** A health-check path: absolute, no spaces or quotes (it is written into HAProxy's and nginx's configs). */
export function assertHealthPath(field: string, value: unknown): asserts value is string {
    assertString(field, value, "must start with \"/\" and hold no spaces or quotes, e.g. \"/healthz\"", /^\/[^\s"'\\]*$/);
}

/** An http(s) URL, or an Output or Promise of one. */
export function assertHttpUrlInput(field: string, value: unknown): void {
    assertInput(field, value, (v) => typeof v === "string" && /^https?:\/\/\S+$/.test(v), "must be an http(s) URL (or an Output of one)");
}

/** An API base URL such as "https://api.digitalocean.com". */
export function assertApiUrl(field: string, value: unknown): asserts value is string {
    assertString(field, value, "must be a base URL such as \"https://api.digitalocean.com\" (no path, no trailing slash)", /^https?:\/\/[^\s/]+$/);
}
