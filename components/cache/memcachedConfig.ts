/** Settings of one memcached node. */
export interface MemcachedSettings {
    /** The private (VPC) address to listen on; never a public one. */
    readonly listenAddress: string;
    readonly port: number;
    /** Memory for items, MiB. */
    readonly memoryMb: number;
    readonly maxConnections: number;
}

/**
 * Renders Debian's /etc/memcached.conf (one option per line, read by the package's
 * systemd wrapper, which passes them to memcached; logs go to the journal). UDP is off
 * (-U 0): memcached's UDP port was the amplification vector of CVE-2018-1000115.
 */
export function renderMemcachedConfig(s: MemcachedSettings): string {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(s.listenAddress) || s.listenAddress === "0.0.0.0") {
        throw new Error(`memcached listenAddress "${s.listenAddress}" must be one private IPv4 address, not a wildcard`);
    }
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw new Error(`memcached port ${s.port} must be 1-65535`);
    if (!Number.isInteger(s.memoryMb) || s.memoryMb < 16) throw new Error(`memcached memoryMb ${s.memoryMb} must be a whole number of at least 16`);
    if (!Number.isInteger(s.maxConnections) || s.maxConnections < 16) throw new Error(`memcached maxConnections ${s.maxConnections} must be at least 16`);
    return [
        "# Managed by dns-rr-ha: private address only, UDP off.",
        "-u memcache",
        "-P /run/memcached/memcached.pid",
        `-m ${s.memoryMb}`,
        `-p ${s.port}`,
        `-l ${s.listenAddress}`,
        "-U 0",
        `-c ${s.maxConnections}`,
        "",
    ].join("\n");
}

/** The command-line options the wrapper derives from the file (comments and blank lines dropped). */
export function memcachedArgs(config: string): string[] {
    return config.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).flatMap((l) => l.split(/\s+/));
}
