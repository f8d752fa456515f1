/**
 * HTTPS pieces of haproxy.cfg (pure): TLS termination on the public frontend
 * with Mozilla's "intermediate" server-side TLS profile (guideline 5.7/5.8,
 * HAProxy 2.6, OpenSSL 3), HTTP -> HTTPS redirect, and HSTS.
 *
 * {@link renderHaproxyConfig} adds these lines only when its `tls` setting is
 * given; without it the config is unchanged (plain HTTP on the public port).
 */
import { assertAbsolutePath, assertIntInRange, assertPort, fail } from "./validate";

/** TLS settings of the public frontend. */
export interface HaproxyTlsSettings {
    /**
     * PEM file HAProxy serves: leaf certificate, then the intermediate(s), then
     * the private key (haproxy's `crt` format). Mode 0600 root:root or
     * 0640 root:haproxy; HAProxy reads it before dropping privileges.
     */
    readonly certificatePath: string;
    /**
     * Public HTTPS port (default 443). The redirect always points at the
     * default HTTPS port of the requested host: another port is for tests only.
     */
    readonly httpsPort?: number;
    /**
     * Finite-field DH parameters for the DHE suites of the intermediate list
     * (Mozilla: the RFC 7919 ffdhe2048 group, {@link FFDHE2048_PEM}). Default:
     * none, and HAProxy falls back to its built-in 2048-bit group
     * (`tune.ssl.default-dh-param 2048`).
     */
    readonly dhParamPath?: string;
    /** HSTS max-age in seconds (default 63072000 = 2 years, Mozilla's minimum); 0 disables the header. */
    readonly hstsMaxAgeSeconds?: number;
    /**
     * Path prefix that stays on plain HTTP besides the LB health URI, e.g.
     * `/.well-known/acme-challenge/` when an HTTP-01 ACME client runs behind
     * the LB. Default: none (the stack uses DNS-01).
     */
    readonly acmeHttpPathPrefix?: string;
}

/** Defaults of the optional {@link HaproxyTlsSettings} fields. */
export const HAPROXY_TLS_DEFAULTS = {
    httpsPort: 443,
    hstsMaxAgeSeconds: 63072000,
} as const;

/**
 * Mozilla Server Side TLS "intermediate" profile (guideline 5.7, unchanged in
 * 5.8): TLS 1.2 and 1.3, AEAD-only ECDHE/DHE suites for TLS 1.2, the three
 * TLS 1.3 suites, X25519/P-256/P-384, the client's cipher order, no session
 * tickets (their keys would never rotate without a restart), DH 2048.
 */
export const MOZILLA_INTERMEDIATE = {
    ciphers: [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    ],
    ciphersuites: ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"],
    curves: ["X25519", "prime256v1", "secp384r1"],
    /** `ssl-default-bind-options`: TLS 1.2 minimum, client cipher order (server_preferred_order false), no tickets. */
    bindOptions: "prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets",
    dhParamBits: 2048,
    hstsMaxAgeSeconds: 63072000,
} as const;

/**
 * RFC 7919 ffdhe2048 group, the DH parameters Mozilla publishes for its
 * intermediate profile (`openssl genpkey -genparam -algorithm DH -pkeyopt
 * group:ffdhe2048` prints the same; a test checks it). Public, not a secret:
 * the wiring writes it to {@link HaproxyTlsSettings.dhParamPath}.
 */
export const FFDHE2048_PEM = [
    "-----BEGIN DH PARAMETERS-----",
    "MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz",
    "+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a",
    "87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7",
    "YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi",
    "7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD",
    "ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==",
    "-----END DH PARAMETERS-----",
    "",
].join("\n");

/** Ports the HTTPS port must not collide with. */
export interface TlsPortContext {
    readonly httpPort: number;
    readonly statsPort: number;
}

/** Throws an Error naming the field (`<prefix>.httpsPort`...) if `tls` cannot render a working config. */
export function validateHaproxyTls(prefix: string, tls: HaproxyTlsSettings, ports: TlsPortContext): void {
    if (typeof tls !== "object" || tls === null) fail(prefix, "must be an object with a certificatePath");
    assertAbsolutePath(`${prefix}.certificatePath`, tls.certificatePath);
    const httpsPort = tls.httpsPort ?? HAPROXY_TLS_DEFAULTS.httpsPort;
    assertPort(`${prefix}.httpsPort`, httpsPort);
    if (httpsPort === ports.httpPort) fail(`${prefix}.httpsPort`, `must differ from httpPort (${ports.httpPort})`);
    if (httpsPort === ports.statsPort) fail(`${prefix}.httpsPort`, `must differ from statsPort (${ports.statsPort})`);
    if (tls.dhParamPath !== undefined) assertAbsolutePath(`${prefix}.dhParamPath`, tls.dhParamPath);
    if (tls.hstsMaxAgeSeconds !== undefined) assertIntInRange(`${prefix}.hstsMaxAgeSeconds`, tls.hstsMaxAgeSeconds, 0, 10 * 365 * 86400);
    if (tls.acmeHttpPathPrefix !== undefined && !/^\/[A-Za-z0-9._~\/-]*\/$/.test(tls.acmeHttpPathPrefix)) {
        fail(`${prefix}.acmeHttpPathPrefix`, `must start and end with "/" and hold only URL path characters, got ${JSON.stringify(tls.acmeHttpPathPrefix)}`);
    }
}

/** `global` section lines: the intermediate defaults for every TLS listener (and any TLS server line). */
export function haproxyTlsGlobalLines(tls: HaproxyTlsSettings): string[] {
    const m = MOZILLA_INTERMEDIATE;
    // HAProxy 2.6 has a curves default for listeners only (ssl-default-server-curves came in 2.8).
    const lines: string[] = [`    ssl-default-bind-curves ${m.curves.join(":")}`];
    for (const side of ["bind", "server"] as const) {
        lines.push(`    ssl-default-${side}-ciphers ${m.ciphers.join(":")}`, `    ssl-default-${side}-ciphersuites ${m.ciphersuites.join(":")}`);
    }
    lines.push(`    ssl-default-bind-options ${m.bindOptions}`, "    ssl-default-server-options ssl-min-ver TLSv1.2 no-tls-tickets");
    lines.push(tls.dhParamPath ? `    ssl-dh-param-file ${tls.dhParamPath}` : `    tune.ssl.default-dh-param ${m.dhParamBits}`);
    return lines;
}

/** HTTPS `bind` lines of the public frontend (IPv4 on `bindAddress`, plus every IPv6 address when `ipv6`). */
export function haproxyTlsBindLines(tls: HaproxyTlsSettings, bindAddress: string, ipv6: boolean): string[] {
    const port = tls.httpsPort ?? HAPROXY_TLS_DEFAULTS.httpsPort;
    const opts = `ssl crt ${tls.certificatePath} alpn h2,http/1.1`;
    return [`    bind ${bindAddress}:${port} ${opts}`, ...(ipv6 ? [`    bind :::${port} v6only ${opts}`] : [])];
}

/**
 * Frontend rules: plain-HTTP requests get a 301 to the same URL on https
 * (same host, default port), except `plainPaths` (the LB health URI:
 * monitoring and the DNS failover agents probe it over plain HTTP) and the
 * ACME HTTP-01 prefix if any; HTTPS responses carry HSTS.
 */
export function haproxyTlsFrontendRuleLines(tls: HaproxyTlsSettings, plainPaths: readonly string[]): string[] {
    // HAProxy 2.6 answers monitor-uri before http-request rules, so /lb-health would
    // survive the redirect anyway; naming it keeps that true if it ever becomes a rule.
    const keepPlain = [...plainPaths.map((p) => `{ path ${p} }`), ...(tls.acmeHttpPathPrefix ? [`{ path_beg ${tls.acmeHttpPathPrefix} }`] : [])];
    const maxAge = tls.hstsMaxAgeSeconds ?? HAPROXY_TLS_DEFAULTS.hstsMaxAgeSeconds;
    return [
        `    http-request redirect scheme https code 301 unless ${["{ ssl_fc }", ...keepPlain].join(" || ")}`,
        ...(maxAge > 0 ? [`    http-response set-header Strict-Transport-Security "max-age=${maxAge}" if { ssl_fc }`] : []),
    ];
}
