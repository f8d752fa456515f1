import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { chromium, Browser } from "playwright-core";

/** Flags for Debian's Chromium on these machines (no sandbox as root, nothing phoning home). */
export const CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export interface LabBrowser {
    readonly browser: Browser;
    close(): Promise<void>;
}

/**
 * Launches Debian's Chromium inside a lab network namespace (the client host), resolving
 * through that host's resolv.conf, i.e. the lab's DNS. `mapHost` pins the site name to one
 * address (Chromium's --host-resolver-rules), for tests that must reach a given entry point.
 */
export async function launchInNetns(netns: string, siteName: string, mapHost?: string): Promise<LabBrowser> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-chromium-"));
    const wrapper = path.join(dir, "chromium-in-netns");
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${netns} /usr/bin/chromium "$@"\n`, { mode: 0o755 });
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
