/**
 * The lab's end-to-end proof: the real program deployed onto this machine (`npm run lab`),
 * driven from the client host by Debian's Chromium and by plain HTTP, with faults injected.
 * Measured figures are printed as "lab-figure: ..." lines.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import { LabState } from "./labState";
import { LAB_PREFIX } from "./labPaths";
import { blackhole, openFabric, reservedIpHolder, unblackhole } from "./net";
import { launchInNetns } from "./testing/browser";
import { cli, figure, labDownAndCheck, labUp, stats, waitAllServersUp } from "./testing/e2eSupport";
import { clientGet, inHost, probeFrom, probeFromAsync, siteTls } from "./testing/labClient";

interface Whoami { host: string; region: string; count: number; session_id: string }

/** Loads the site in a fresh browser (fresh DNS cache, fresh profile); returns page data and the load time. */
async function freshLoad(state: LabState, mapHost?: string): Promise<{ ok: boolean; ms: number; who?: Whoami; error?: string }> {
    const b = await launchInNetns(state.clientNetns, state.siteName, { mapHost, caFile: state.acmeRootFile });
    try {
        const page = await b.browser.newPage();
        const t = Date.now();
        try {
            const res = await page.goto(new URL("/whoami.json", state.siteUrl).href, { timeout: 20_000 });
            const ms = Date.now() - t;
            if (res?.status() !== 200) return { ok: false, ms, error: `HTTP ${res?.status()}` };
            return { ok: true, ms, who: JSON.parse((await page.textContent("body")) ?? "{}") as Whoami };
        } catch (e) {
            return { ok: false, ms: Date.now() - t, error: (e as Error).message.split("\n")[0] };
        }
    } finally {
        await b.close();
    }
}

describe("the lab", { timeout: 1_800_000 }, () => {
    let state: LabState;

    before(() => {
        state = labUp();
    });

    after(() => labDownAndCheck());

    test("status --json describes the site, its entry points and every host", () => {
        assert.equal(state.siteName, "www.dns-rr-ha.test");
        assert.equal(state.entryPoints.length, 2);
        assert.equal(state.hosts.length, 13);
        for (const role of ["lb", "app", "db", "cache", "witness"]) assert.ok(state.hosts.some((h) => h.role === role), role);
    });

    test("keepalived elects exactly one MASTER per region, over the VXLAN link through the firewalls", () => {
        for (const region of new Set(state.hosts.filter((h) => h.role === "lb").map((h) => h.region))) {
            const lbs = state.hosts.filter((h) => h.role === "lb" && h.region === region);
            let masters: string[] = [];
            for (let i = 0; i < 20; i++) {
                // The MASTER holds the VRRP marker address on lo (components/lb/keepalivedConfig.ts).
                masters = lbs.filter((h) => /inet 169\.254\.254\.\d+\/32/.test(inHost(state, h.name, "ip -4 addr show dev lo").out)).map((h) => h.name);
                if (masters.length === 1) break;
                spawnSync("sleep", ["0.5"]);
            }
            assert.equal(masters.length, 1, `${region}: MASTERs ${masters.join(", ") || "none"}`);
        }
    });

    test("1. the page loads through the round-robin name, and fresh loads reach both regions", async () => {
        const regions = new Set<string>();
        let loads = 0;
        while (regions.size < 2 && loads < 20) {
            const r = await freshLoad(state);
            loads++;
            assert.ok(r.ok, `load ${loads} failed: ${r.error}`);
            regions.add(r.who!.region);
        }
        assert.deepEqual([...regions].sort(), ["ams3", "nyc3"], `only ${[...regions].join()} served in ${loads} fresh loads`);
    });

    test("2. one browser session keeps its counter across load balancers and app servers of both regions", async () => {
        const [a, b] = state.entryPoints;
        let storage: Awaited<ReturnType<import("playwright-core").BrowserContext["storageState"]>> | undefined;
        const seen: Whoami[] = [];
        for (const entry of [a!, b!, a!]) {
            const br = await launchInNetns(state.clientNetns, state.siteName, { mapHost: entry.ipv4, caFile: state.acmeRootFile });
            try {
                const ctx = await br.browser.newContext(storage ? { storageState: storage } : {});
                const page = await ctx.newPage();
                for (let i = 0; i < 4; i++) {
                    const res = await page.goto(new URL("/whoami.json", state.siteUrl).href);
                    assert.equal(res?.status(), 200);
                    seen.push(JSON.parse((await page.textContent("body")) ?? "{}") as Whoami);
                }
                storage = await ctx.storageState();
            } finally {
                await br.close();
            }
        }
        assert.deepEqual(seen.map((w) => w.count), seen.map((_, i) => i + 1), "the counter never resets or skips");
        assert.equal(new Set(seen.map((w) => w.session_id)).size, 1);
        assert.deepEqual([...new Set(seen.map((w) => w.region))].sort(), ["ams3", "nyc3"]);
        assert.ok(new Set(seen.map((w) => w.host)).size >= 3, `app servers seen: ${[...new Set(seen.map((w) => w.host))].join()}`);
    });

    test("3. a row written in one region is read in the other; both masters take writes without key collisions", () => {
        const [a, b] = state.entryPoints;
        const key = `e2e-${Date.now()}`;
        const wa = JSON.parse(clientGet(state, a!.ipv4, `/whoami.json?write=0&key=${key}-a&value=A`).body) as { region: string; db: { kv: { id: number } } };
        const wb = JSON.parse(clientGet(state, b!.ipv4, `/whoami.json?write=0&key=${key}-b&value=B`).body) as { region: string; db: { kv: { id: number } } };
        assert.notEqual(wa.region, wb.region);
        assert.notEqual(wa.db.kv.id % 16, wb.db.kv.id % 16, "each master has its own auto-increment offset");
        const t = Date.now();
        let seenMs = -1;
        while (Date.now() - t < 10_000) {
            const r = JSON.parse(clientGet(state, b!.ipv4, `/whoami.json?write=0&read=${key}-a`).body) as { db: { read?: { found: boolean } } };
            if (r.db.read?.found) {
                seenMs = Date.now() - t;
                break;
            }
        }
        assert.ok(seenMs >= 0, "the row written through region A never appeared through region B within 10 s");
        figure(`cross-region read-after-write visible after ${seenMs} ms (bound 10 s)`);
        const back = JSON.parse(clientGet(state, a!.ipv4, `/whoami.json?write=0&read=${key}-b`).body) as { db: { read?: { found: boolean } } };
        for (let i = 0; i < 50 && !back.db.read?.found; i++) Object.assign(back, JSON.parse(clientGet(state, a!.ipv4, `/whoami.json?write=0&read=${key}-b`).body));
        assert.ok(back.db.read?.found, "and the other way round");
    });

    test("4. HAProxy killed on the load balancer holding an entry point: 0 failed page loads", async () => {
        waitAllServersUp(state);
        const fabric = openFabric(LAB_PREFIX);
        const entry = state.entryPoints[0]!;
        const holder = reservedIpHolder(fabric, entry.ipv4)!;
        // Kept down (not restarted by systemd); keepalived's standby then takes the IP over within seconds.
        assert.equal(inHost(state, holder, "systemctl kill --signal=SIGKILL haproxy; systemctl stop haproxy").code, 0);
        try {
            const ports = probeFrom<{ port: number; result: string }[]>(state.clientNetns, { mode: "ports", targets: [80, 443].map((port) => ({ host: entry.ipv4, port })), timeoutMs: 2000 });
            for (const p of ports) assert.equal(p.result, "refused", `the dead entry point refuses connections on ${p.port}`);
            const loads = [];
            for (let i = 0; i < 10; i++) loads.push(await freshLoad(state));
            const failed = loads.filter((l) => !l.ok);
            figure(`haproxy killed on ${holder}: ${loads.length} fresh page loads, ${failed.length} failed, load time mean ${stats(loads.map((l) => l.ms)).mean} ms max ${stats(loads.map((l) => l.ms)).max} ms`);
            assert.equal(failed.length, 0, failed.map((f) => f.error).join("; "));
        } finally {
            inHost(state, holder, "systemctl start haproxy");
        }
    });

    test("5. an entry point's host blackholed (no RST): 0 failed page loads, extra load time measured", async () => {
        const fabric = openFabric(LAB_PREFIX);
        const entry = state.entryPoints[0]!;
        const holder = reservedIpHolder(fabric, entry.ipv4)!;
        waitAllServersUp(state);
        const baseline = [];
        for (let i = 0; i < 8; i++) baseline.push(await freshLoad(state));
        assert.ok(baseline.every((l) => l.ok));
        await blackhole(fabric, holder);
        try {
            const loads = [];
            for (let i = 0; i < 12; i++) loads.push(await freshLoad(state));
            const failed = loads.filter((l) => !l.ok);
            const b = stats(baseline.map((l) => l.ms));
            const f = stats(loads.map((l) => l.ms));
            figure(`${holder} blackholed: ${loads.length} fresh page loads, ${failed.length} failed; load time mean ${f.mean} ms max ${f.max} ms vs ${b.mean} ms / ${b.max} ms healthy (extra mean ${f.mean - b.mean} ms, worst ${f.max - b.max} ms)`);
            assert.equal(failed.length, 0, failed.map((x) => x.error).join("; "));
        } finally {
            await unblackhole(fabric, holder);
        }
    });

    test("6. one app server stopped under a steady request stream: 0 failed requests", async () => {
        waitAllServersUp(state);
        const entry = state.entryPoints[0]!;
        const victim = state.hosts.find((h) => h.role === "app" && h.region === entry.region)!;
        const stream = probeFromAsync<{ ok: number; failed: number; errors: string[]; latenciesMs: number[] }>(state.clientNetns, {
            mode: "stream", host: entry.ipv4, hostHeader: state.siteName, tls: siteTls(state), path: "/whoami.json?write=0", count: 120, intervalMs: 50, timeoutMs: 15_000,
        });
        // The probe runs in a child process; stop the server a second into its stream.
        const stopper = new Promise<void>((resolve) => setTimeout(() => {
            inHost(state, victim.name, "systemctl stop nginx php8.2-fpm");
            resolve();
        }, 1000));
        try {
            const [r] = await Promise.all([stream, stopper]);
            figure(`app server ${victim.name} stopped during ${r.ok + r.failed} requests at 20/s: ${r.failed} failed, p50 ${[...r.latenciesMs].sort((a, b) => a - b)[Math.floor(r.latenciesMs.length / 2)]} ms, max ${Math.max(...r.latenciesMs)} ms`);
            assert.equal(r.failed, 0, r.errors.join("; "));
        } finally {
            inHost(state, victim.name, "systemctl start php8.2-fpm nginx");
        }
    });

    test("the metadata service answers each droplet, and the lab API moves a reserved IP for the stack's own takeover script", () => {
        for (const h of state.hosts.slice(0, 3)) {
            const id = inHost(state, h.name, "curl -s -m 3 http://169.254.169.254/metadata/v1/hostname").out.trim();
            assert.equal(id, h.name, `metadata of ${h.name}`);
        }
        const fabric = openFabric(LAB_PREFIX);
        const entry = state.entryPoints[1]!;
        const holder = reservedIpHolder(fabric, entry.ipv4)!;
        const standby = state.hosts.find((h) => h.role === "lb" && h.region === entry.region && h.name !== holder)!;
        // The token and API URL the wiring delivered (0600 root), used by the script keepalived runs.
        assert.equal(inHost(state, standby.name, "stat -c %a:%U /etc/dns-rr-ha/do-token").out.trim(), "600:root");
        const run = inHost(state, standby.name, `/usr/local/libexec/dns-rr-ha/reserved-ip-takeover ${entry.ipv4}`);
        assert.equal(run.code, 0, run.out);
        assert.equal(reservedIpHolder(fabric, entry.ipv4), standby.name);
        for (let i = 0; i < 20 && clientGet(state, entry.ipv4, "/lb-health").status !== 200; i++) spawnSync("sleep", ["0.25"]);
        assert.equal(clientGet(state, entry.ipv4, "/lb-health").status, 200, "the entry point serves from its new holder");
    });

    test("`lab fault` and `lab heal`: added latency between two regions is measured, then removed; a killed daemon dies", () => {
        const [a, b] = state.entryPoints;
        const from = state.hosts.find((h) => h.role === "lb" && h.region === a!.region)!;
        const to = state.hosts.find((h) => h.role === "lb" && h.region === b!.region)!;
        const rtt = () => {
            const out = inHost(state, from.name, `ping -n -q -c 5 -i 0.2 -W 2 ${to.privateIpv4}`).out;
            const m = /= [\d.]+\/([\d.]+)\//.exec(out);
            assert.ok(m, out);
            return Number(m[1]);
        };
        const base = rtt();
        const slow = cli("fault", "latency", a!.region, b!.region, "100");
        assert.equal(slow.code, 0, slow.out);
        assert.match(cli("status").out, new RegExp(`faults in force[\\s\\S]*\\+100 ms one way`));
        spawnSync("sleep", ["1"]);
        const slowed = rtt();
        assert.equal(cli("heal").code, 0);
        spawnSync("sleep", ["1"]);
        const healed = rtt();
        figure(`lab fault latency ${a!.region} ${b!.region} 100: RTT ${from.name} -> ${to.name} ${base.toFixed(0)} ms, then ${slowed.toFixed(0)} ms, after heal ${healed.toFixed(0)} ms`);
        assert.ok(slowed - base >= 180 && slowed - base <= 260, `+100 ms each way adds ~200 ms RTT: ${base} -> ${slowed}`);
        assert.ok(Math.abs(healed - base) < 30, `heal restores the RTT: ${base} -> ${healed}`);
        assert.match(cli("fault", "partition", a!.region, "mars1").out, /region "mars1" is not a region of this lab/);

        const cache = state.hosts.find((h) => h.role === "cache")!;
        const pidBefore = inHost(state, cache.name, "systemctl show -p MainPID --value memcached").out.trim();
        const kill = cli("fault", "kill", cache.name);
        assert.equal(kill.code, 0, kill.out);
        assert.match(kill.out, /SIGKILL sent on lab-cache-[a-z0-9]+-1: memcached\.service pid \d+, Restart=/);
        spawnSync("sleep", ["0.5"]);
        assert.notEqual(inHost(state, cache.name, "systemctl show -p MainPID --value memcached").out.trim(), pidBefore, "the old memcached is gone");
        inHost(state, cache.name, "systemctl restart memcached");
    });

    test("no secret in any droplet's user-data or journal, in the lab's logs, or in `status --json`", () => {
        const read = (host: string, cmd: string) => inHost(state, host, cmd).out;
        const app = state.hosts.find((h) => h.role === "app")!;
        const db = state.hosts.find((h) => h.role === "db")!;
        const secrets = new Map<string, string>();
        secrets.set("DO API token", fs.readFileSync(state.doApiTokenFile, "utf8").trim());
        secrets.set("app DB password", /^DB_PASSWORD=(.+)$/m.exec(read(app.name, "cat /etc/dns-rr-ha/app.env"))![1]!.replace(/^'|'$/g, ""));
        for (const [, pw] of read(db.name, "cat /etc/dns-rr-ha/db/users.sql").matchAll(/IDENTIFIED BY '([^']+)'/g)) secrets.set(`DB user password ${pw!.slice(0, 3)}…`, pw!);
        // One line from the middle of each private key: enough to spot it, never a PEM header.
        const keyLine = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----"))[1]!;
        secrets.set("DB TLS key", keyLine(read(db.name, "cat /etc/mysql/dns-rr-ha-tls/server-key.pem")));
        secrets.set("deploy key", keyLine(fs.readFileSync(`${state.labDir}/keys/deploy`, "utf8")));
        const lb = state.hosts.find((h) => h.role === "lb")!;
        secrets.set("DNS agents' vote key", read(lb.name, "cat /etc/dns-rr-ha/dns-vote-key").trim());
        for (const [what, value] of secrets) assert.ok(value.length >= 12, `${what} looks too short to search for: ${value.length} characters`);

        const places: [string, string][] = [["status --json", cli("status", "--json").out]];
        for (const h of state.hosts) {
            places.push([`${h.name} user-data`, read(h.name, "cat /var/lib/cloud/instance/user-data.txt")]);
            places.push([`${h.name} journal`, read(h.name, "journalctl --no-pager -o cat -q")]);
        }
        const logs = spawnSync("sh", ["-c", `find ${state.labDir} /run/drr-lab -path ${state.labDir}/volumes -prune -o -path '*/merged' -prune -o -path '*/upper' -prune -o -type f \\( -name '*.log' -o -name '*.jsonl' \\) -print`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
        assert.ok(logs.length >= 10, `lab logs found: ${logs.join(", ")}`);
        for (const f of logs) places.push([f, fs.readFileSync(f, "utf8")]);
        for (const [where, text] of places) {
            for (const [what, value] of secrets) assert.ok(!text.includes(value), `${what} appears in ${where}`);
        }
        figure(`secrets: ${secrets.size} secrets searched in ${places.length} places (user-data and journal of ${state.hosts.length} droplets, ${logs.length} lab log files, status --json): none found`);
    });

    test("8. `up` again on a running lab is safe: the site serves again afterwards", () => {
        const again = cli("up");
        assert.equal(again.code, 0, again.out.slice(-3000));
        state = JSON.parse(cli("status", "--json").out) as LabState;
        for (const e of state.entryPoints) assert.equal(clientGet(state, e.ipv4, "/lb-health").status, 200);
        figure(`second up: ${state.bringUpSeconds.toFixed(1)} s`);
    });
});
