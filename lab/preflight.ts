import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LAB_DIR } from "./labPaths";
import { packagesFor, PackageUser } from "./hostPackages";

/** Where apt's output goes while the preflight installs packages (the terminal gets a line per step). */
export const PREFLIGHT_APT_LOG = path.join(LAB_DIR, "preflight-apt.log");

function installed(pkg: string): boolean {
    const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8" });
    return r.status === 0 && r.stdout.includes("install ok installed");
}

function has(cmd: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/**
 * The lab needs Linux, root, and the Debian packages of `users` in `scripts/debian-packages.json`
 * ("lab"; the bench adds "bench"). Missing ones are installed with apt-get, daemons kept from
 * starting on this machine, apt's output in {@link PREFLIGHT_APT_LOG} and one line per step here.
 */
export function preflight(log: (line: string) => void, users: readonly PackageUser[] = ["lab"]): void {
    if (process.platform !== "linux") throw new Error(`the lab runs on Linux only (this is ${process.platform}): it uses network namespaces and systemd-nspawn`);
    if (process.getuid?.() !== 0) throw new Error("the lab needs root (network namespaces, nftables, containers): run it as root, e.g. `sudo npm run lab`");
    const wanted = packagesFor(users);
    if (!has("dpkg-query") || !has("apt-get")) {
        throw new Error(`the lab needs Debian's packages (dpkg, apt-get), and this machine has no apt: install ${wanted.join(" ")} with your package manager`);
    }
    const missing = wanted.filter((p) => !installed(p));
    if (missing.length === 0) return;
    fs.mkdirSync(path.dirname(PREFLIGHT_APT_LOG), { recursive: true });
    fs.writeFileSync(PREFLIGHT_APT_LOG, "");
    log(`installing ${missing.length} Debian package(s) the lab runs: ${missing.join(" ")} (apt's output: ${PREFLIGHT_APT_LOG})`);
    const addedPolicy = !fs.existsSync("/usr/sbin/policy-rc.d");
    if (addedPolicy) fs.writeFileSync("/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    try {
        const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
        const steps: [string, string[]][] = [
            ["apt-get update", ["update"]],
            [`apt-get install (${missing.length})`, ["install", "-y", "--no-install-recommends", ...missing]],
        ];
        for (const [what, args] of steps) {
            const t0 = Date.now();
            const out = fs.openSync(PREFLIGHT_APT_LOG, "a");
            let r;
            try {
                r = spawnSync("apt-get", args, { stdio: ["ignore", out, out], env });
            } finally {
                fs.closeSync(out);
            }
            if (r.status !== 0) {
                const tail = fs.readFileSync(PREFLIGHT_APT_LOG, "utf8").trimEnd().split("\n").slice(-8).join("\n");
                throw new Error(`${what} failed (exit ${r.status ?? r.signal}); the last lines of ${PREFLIGHT_APT_LOG}:\n${tail}\ninstall by hand: apt-get install ${missing.join(" ")}`);
            }
            log(`  ${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        }
    } finally {
        if (addedPolicy) fs.rmSync("/usr/sbin/policy-rc.d", { force: true });
    }
    const still = missing.filter((p) => !installed(p));
    if (still.length > 0) throw new Error(`apt-get reported success but ${still.join(" ")} is still not installed; see ${PREFLIGHT_APT_LOG}`);
}
