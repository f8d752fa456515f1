import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { AddressInfo } from "node:net";
import { agentBundle } from "./agentBundle";
import type { AgentSettings } from "./agent/settings";

/** The bundled agent, run as real Node processes on loopback against a records API served by the test. */

function listen(handler: http.RequestListener): Promise<http.Server> {
    const server = http.createServer(handler);
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
const portOf = (s: http.Server) => (s.address() as AddressInfo).port;

async function freePort(): Promise<number> {
    const s = await listen(() => undefined);
    const port = portOf(s);
    await new Promise((r) => s.close(r));
    return port;
}

async function until(what: string, ms: number, check: () => boolean): Promise<number> {
    const start = Date.now();
    while (!check()) {
        if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    return Date.now() - start;
}

describe("the bundled agent, three processes", () => {
    const children: ChildProcess[] = [];
    const servers: http.Server[] = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dns-agent-"));
    after(async () => {
        for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
        for (const s of servers) s.closeAllConnections();
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("withdraws a dark entry point through the API, restores it, and never calls without the token", async () => {
        const healthy = { east: true, west: true };
        const health = await Promise.all((["east", "west"] as const).map((region) => listen((req, res) => {
            if (!healthy[region]) return; // a dark entry point: never answers
            res.writeHead(req.headers.host === "www.example.test" && req.url === "/lb-health" ? 200 : 400).end();
        })));
        servers.push(...health);
        const ips = { east: "192.0.2.10", west: "192.0.2.20" };
        let records = [
            { id: 1, type: "A", name: "www", data: ips.east, ttl: 30 },
            { id: 2, type: "A", name: "www", data: ips.west, ttl: 30 },
        ];
        let nextId = 3;
        const calls: string[] = [];
        const api = await listen((req, res) => {
            let body = "";
            req.on("data", (c: Buffer) => (body += c.toString()));
            req.on("end", () => {
                calls.push(`${req.method} ${req.url}`);
                if (req.headers.authorization !== "Bearer secret-token") return res.writeHead(401).end("{}");
                const url = new URL(req.url!, "http://x");
                if (req.method === "GET" && url.pathname === "/v2/domains/example.test/records") {
                    assert.equal(url.searchParams.get("name"), "www.example.test");
                    return res.writeHead(200).end(JSON.stringify({ domain_records: records.filter((r) => r.type === url.searchParams.get("type")), links: {}, meta: { total: records.length } }));
                }
                if (req.method === "POST") {
                    const r = { id: nextId++, ...(JSON.parse(body) as { type: string; name: string; data: string; ttl: number }) };
                    records.push(r);
                    return res.writeHead(201).end(JSON.stringify({ domain_record: r }));
                }
                if (req.method === "DELETE") {
                    records = records.filter((r) => String(r.id) !== url.pathname.split("/").pop());
                    return res.writeHead(204).end();
                }
                res.writeHead(404).end("{}");
            });
        });
        servers.push(api);

        const script = path.join(dir, "agent.js");
        fs.writeFileSync(script, agentBundle());
        const ids = ["obs-a", "obs-b", "obs-c"];
        const ports = await Promise.all(ids.map(() => freePort()));
        const tokenFile = path.join(dir, "token");
        fs.writeFileSync(tokenFile, "secret-token\n", { mode: 0o600 });
        const voteKeyFile = path.join(dir, "vote-key");
        fs.writeFileSync(voteKeyFile, `${"v".repeat(64)}\n`, { mode: 0o600 });
        const logs: string[] = [];
        ids.forEach((id, i) => {
            const settings: AgentSettings = {
                observer: id,
                listen: { host: "127.0.0.1", port: ports[i]! },
                peers: ids.flatMap((p, j) => (p === id ? [] : [{ id: p, url: `http://127.0.0.1:${ports[j]}` }])),
                entryPoints: (["east", "west"] as const).map((region, k) => ({ region, ipv4: ips[region], healthUrl: `http://127.0.0.1:${portOf(health[k]!)}/lb-health` })),
                siteName: "www.example.test", domain: "example.test", recordName: "www", ttl: 30,
                intervalMs: 300, timeoutMs: 200, downAfter: 3, upAfter: 3, viewMaxAgeMs: 1000, reconcileMs: 60_000,
                apiUrl: `http://127.0.0.1:${portOf(api)}`, tokenFile: id === "obs-a" ? tokenFile : path.join(dir, "none"), voteKeyFile, apiBudgetPerMinute: 100,
            };
            const file = path.join(dir, `${id}.json`);
            fs.writeFileSync(file, JSON.stringify(settings));
            const child = spawn(process.execPath, [script, file], { stdio: ["ignore", "pipe", "pipe"] });
            child.stdout!.on("data", (c: Buffer) => logs.push(...c.toString().trim().split("\n").map((l) => `${id} ${l}`)));
            child.stderr!.on("data", (c: Buffer) => logs.push(`${id} stderr ${c.toString()}`));
            children.push(child);
        });
        await until("three agents started", 10_000, () => logs.filter((l) => l.includes('"event":"started"')).length === 3);
        const published = () => records.filter((r) => r.type === "A").map((r) => r.data).sort();

        healthy.west = false;
        const withdrawMs = await until("west withdrawn", 10_000, () => published().length === 1);
        assert.deepEqual(published(), [ips.east]);
        const withdraw = logs.filter((l) => l.includes('"event":"withdraw"'));
        assert.equal(withdraw.length, 1, logs.join("\n"));
        assert.match(withdraw[0]!, /^obs-a .*"entryPoint":"west".*"down":[23]/, "the actor (first id) withdrew it, on a majority");

        healthy.west = true;
        await until("west restored", 10_000, () => published().length === 2);
        assert.ok(logs.some((l) => l.includes('"event":"restore"')));
        assert.ok(calls.every((c) => !c.includes("undefined")), calls.join("\n"));
        assert.ok(logs.every((l) => !l.includes("secret-token")), "the token never reaches a log line");
        assert.ok(!logs.some((l) => l.includes('"event":"peer-rejected"')), "agents sharing the key believe each other");
        assert.ok(logs.every((l) => !l.includes("v".repeat(64))), "the vote key never reaches a log line");
        console.log(`agent-figure: withdrawal ${withdrawMs} ms after the entry point went dark (probes every 300 ms, down after 3), ${calls.length} API calls`);
    });

    test("agents with different vote keys do not believe each other, and one without a key refuses to start", async () => {
        const script = path.join(dir, "agent.js");
        fs.writeFileSync(script, agentBundle());
        const ids = ["key-x", "key-y"];
        const ports = await Promise.all(ids.map(() => freePort()));
        const logs: string[] = [];
        const settingsOf = (id: string, i: number, voteKeyFile: string): string => {
            const settings: AgentSettings = {
                observer: id,
                listen: { host: "127.0.0.1", port: ports[i]! },
                peers: ids.flatMap((p, j) => (p === id ? [] : [{ id: p, url: `http://127.0.0.1:${ports[j]}` }])),
                entryPoints: [{ region: "east", ipv4: "192.0.2.10", healthUrl: `http://127.0.0.1:${ports[i]}/lb-health` }],
                siteName: "www.example.test", domain: "example.test", recordName: "www", ttl: 30,
                intervalMs: 300, timeoutMs: 200, downAfter: 3, upAfter: 3, viewMaxAgeMs: 1000, reconcileMs: 60_000,
                apiUrl: "http://127.0.0.1:9", tokenFile: path.join(dir, "none"), voteKeyFile, apiBudgetPerMinute: 100,
            };
            const file = path.join(dir, `${id}.json`);
            fs.writeFileSync(file, JSON.stringify(settings));
            return file;
        };
        const run = (id: string, file: string): ChildProcess => {
            const child = spawn(process.execPath, [script, file], { stdio: ["ignore", "pipe", "pipe"] });
            child.stdout!.on("data", (c: Buffer) => logs.push(...c.toString().trim().split("\n").map((l) => `${id} ${l}`)));
            children.push(child);
            return child;
        };
        ids.forEach((id, i) => {
            const keyFile = path.join(dir, `${id}.key`);
            fs.writeFileSync(keyFile, `${id.repeat(16)}\n`, { mode: 0o600 });
            run(id, settingsOf(id, i, keyFile));
        });
        await until("each rejects the other", 10_000, () => ids.every((id) => logs.some((l) => l.startsWith(`${id} `) && l.includes('"event":"peer-rejected"'))));
        for (const id of ids) {
            const rejected = logs.filter((l) => l.startsWith(`${id} `) && l.includes('"event":"peer-rejected"'));
            assert.equal(rejected.length, 1, `logged once, not every round: ${rejected.join("\n")}`);
            assert.match(rejected[0]!, /"reason":"the view's MAC does not match the vote key"/);
        }
        const status = await fetch(`http://127.0.0.1:${ports[0]}/status`).then((r) => r.json()) as { heard: string[] };
        assert.deepEqual(status.heard, []);

        const keyless = run("keyless", settingsOf("keyless", 0, path.join(dir, "no-such-key")));
        const code = await new Promise<number | null>((r) => keyless.once("exit", r));
        assert.equal(code, 1);
        assert.ok(logs.some((l) => l.startsWith("keyless ") && l.includes('"event":"fatal"') && l.includes(`no vote key in ${path.join(dir, "no-such-key")}`)), logs.join("\n"));
    });
});
