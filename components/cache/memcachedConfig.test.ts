import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { memcachedArgs, renderMemcachedConfig } from "./memcachedConfig";

const WRAPPER = "/usr/share/memcached/scripts/systemd-memcached-wrapper";

function probe(host: string, port: number, payload: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const s = net.connect({ host, port }, () => s.write(payload));
        let out = "";
        s.setTimeout(2000, () => { s.destroy(); reject(new Error("timeout")); });
        s.on("data", (d) => { out += d.toString(); if (out.includes("\r\n")) { s.end(); resolve(out); } });
        s.on("error", reject);
    });
}

describe("renderMemcachedConfig", () => {
    const cfg = { listenAddress: "127.0.0.1", port: 11311, memoryMb: 64, maxConnections: 128 };

    test("Debian's own systemd wrapper starts memcached from it, TCP on the given address only, UDP off", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memcached-"));
        const file = path.join(dir, "memcached.conf");
        // The pid file's directory is the unit's runtime directory on a droplet; here a temp dir.
        fs.writeFileSync(file, renderMemcachedConfig(cfg).replace("/run/memcached/memcached.pid", path.join(dir, "memcached.pid")));
        fs.chmodSync(dir, 0o777);
        const child = spawn(WRAPPER, [file], { stdio: ["ignore", "pipe", "pipe"], detached: true });
        let stderr = "";
        child.stderr.on("data", (d) => { stderr += d.toString(); });
        try {
            let answer = "";
            for (let i = 0; i < 50 && !answer; i++) {
                await new Promise((r) => setTimeout(r, 100));
                answer = await probe("127.0.0.1", cfg.port, "version\r\n").catch(() => "");
            }
            assert.match(answer, /^VERSION 1\./, `memcached did not answer: ${stderr}`);
            const ps = spawnSync("ps", ["-o", "args=", "--ppid", String(child.pid)], { encoding: "utf8" }).stdout + spawnSync("ps", ["-o", "args=", "-p", String(child.pid)], { encoding: "utf8" }).stdout;
            assert.match(ps, /-U 0/);
            assert.match(ps, /-l 127\.0\.0\.1/);
            const udp = spawnSync("ss", ["-lun"], { encoding: "utf8" }).stdout;
            assert.ok(!udp.includes(`:${cfg.port}`), "no UDP listener");
        } finally {
            process.kill(-child.pid!, "SIGTERM");
            await new Promise((r) => child.once("exit", r));
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("every line is an option memcached knows (the wrapper passes them through)", () => {
        const args = memcachedArgs(renderMemcachedConfig(cfg));
        const help = spawnSync("memcached", ["-h"], { encoding: "utf8" }).stdout;
        for (const a of args.filter((x) => x.startsWith("-"))) {
            assert.ok(new RegExp(`^\\s*${a.replace("-", "\\-")}[ ,]`, "m").test(help), `memcached -h does not list ${a}`);
        }
    });

    test("refuses wildcard or bad listen addresses and silly sizes", () => {
        assert.throws(() => renderMemcachedConfig({ ...cfg, listenAddress: "0.0.0.0" }), /not a wildcard/);
        assert.throws(() => renderMemcachedConfig({ ...cfg, listenAddress: "example" }), /listenAddress/);
        assert.throws(() => renderMemcachedConfig({ ...cfg, port: 0 }), /port/);
        assert.throws(() => renderMemcachedConfig({ ...cfg, memoryMb: 1 }), /memoryMb/);
    });
});
