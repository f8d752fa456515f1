import { spawnSync } from "child_process";
import * as fs from "fs";

/** Debian packages the lab itself needs on this machine (droplet packages go into the image). */
export const LAB_HOST_PACKAGES = ["systemd-container", "debootstrap", "bind9", "bind9-dnsutils", "nftables", "iproute2", "conntrack", "ethtool", "iputils-ping", "openssh-client", "curl"];
const COMMANDS: Record<string, string> = {
    "systemd-nspawn": "systemd-container", debootstrap: "debootstrap", named: "bind9", dig: "bind9-dnsutils",
    nft: "nftables", ip: "iproute2", conntrack: "conntrack", ethtool: "ethtool", ping: "iputils-ping", ssh: "openssh-client", curl: "curl",
};

function has(cmd: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/**
 * The lab needs Linux, root, and a few Debian packages (plus `extra` commands -> packages, e.g. the
 * bench's wrk). Missing packages are installed with apt-get when possible (daemons kept from
 * starting on the host), or named with the command.
 */
export function preflight(log: (line: string) => void, extra: Readonly<Record<string, string>> = {}): void {
    if (process.platform !== "linux") throw new Error(`the lab runs on Linux only (this is ${process.platform}): it uses network namespaces and systemd-nspawn`);
    if (process.getuid?.() !== 0) throw new Error("the lab needs root (network namespaces, nftables, containers): run it as root, e.g. `sudo npm run lab`");
    const missing = [...new Set(Object.entries({ ...COMMANDS, ...extra }).filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg))];
    if (missing.length === 0) return;
    if (!has("apt-get")) throw new Error(`missing packages: ${missing.join(" ")}; install them with your package manager`);
    log(`installing the lab's Debian packages: ${missing.join(" ")}`);
    const addedPolicy = !fs.existsSync("/usr/sbin/policy-rc.d");
    if (addedPolicy) fs.writeFileSync("/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    try {
        const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
        for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", ...missing]]) {
            const r = spawnSync("apt-get", args, { stdio: "inherit", env });
            if (r.status !== 0) throw new Error(`apt-get ${args[0]} failed; install by hand: apt-get install ${missing.join(" ")}`);
        }
    } finally {
        if (addedPolicy) fs.rmSync("/usr/sbin/policy-rc.d", { force: true });
    }
}
