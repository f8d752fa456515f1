import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { chromium, Browser } from "playwright-core";

/** A new NSS database at `db` trusting `caFile` to identify websites (Debian's certutil, libnss3-tools). */
function trustInNssDb(db: string, caFile: string): void {
    fs.mkdirSync(db, { recursive: true, mode: 0o700 });
    for (const args of [["-N", "--empty-password"], ["-A", "-n", "lab ACME root", "-t", "C,,", "-i", caFile]]) {
        const r = spawnSync("certutil", ["-d", `sql:${db}`, ...args], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`certutil ${args[0]} failed: ${r.stderr || r.error?.message}`);
    }
}

/** Flags for Debian's Chromium on these machines (no sandbox as root, nothing phoning home). */
export const CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export interface LabBrowser {
    readonly browser: Browser;
    close(): Promise<void>;
}

export interface LaunchOptions {
    /** Pins the site name to one address (Chromium's --host-resolver-rules), to reach a given entry point. */
    readonly mapHost?: string;
    /** PEM of a root CA this browser trusts besides the built-in ones: the lab's ACME CA. */
    readonly caFile?: string;
}

/**
 * Launches Debian's Chromium inside a lab network namespace (the client host), resolving
 * through that host's resolv.conf, i.e. the lab's DNS.
 */
export async function launchInNetns(netns: string, siteName: string, opts: LaunchOptions = {}): Promise<LabBrowser> {
    const { mapHost, caFile } = opts;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-chromium-"));
    const wrapper = path.join(dir, "chromium-in-netns");
    // Chromium on Linux takes extra roots from the NSS database in $HOME/.pki/nssdb: a fresh HOME
    // per launch holds exactly the one lab root, so nothing else on this machine is trusted by it.
    const home = path.join(dir, "home");
    if (caFile) trustInNssDb(path.join(home, ".pki", "nssdb"), caFile);
    fs.writeFileSync(wrapper, `#!/bin/sh\nexport HOME='${home}'\nexec ip netns exec ${netns} /usr/bin/chromium "$@"\n`, { mode: 0o755 });
    // Chromium still looks up Google hosts at start: answer those NOTFOUND locally, resolve only the site.
    const rules = mapHost ? `MAP ${siteName} ${mapHost}, MAP * ~NOTFOUND` : `MAP * ~NOTFOUND, EXCLUDE ${siteName}`;
    const browser = await chromium.launch({
        executablePath: wrapper,
        // Playwright gives every launch a fresh, empty user-data dir of its own.
        args: [...CHROMIUM_FLAGS, `--host-resolver-rules=${rules}`],
        timeout: 30_000,
    });
    return {
        browser,
        close: async () => {
            await browser.close().catch(() => undefined);
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
