import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderWiringScript } from "./wiringScript";

describe("renderWiringScript", () => {
    let dir: string;
    let bin: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "wiring-"));
        bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        // Stand-in for cloud-init on this host (the real one reports on the host's own boot).
        fs.writeFileSync(path.join(bin, "cloud-init"), "#!/bin/sh\n[ -f \"$WIRING_TEST_DIR/cloud-init-failed\" ] && exit 1\nexit 0\n", { mode: 0o755 });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const run = (script: string) => spawnSync("bash", ["-s"], {
        input: script,
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, WIRING_TEST_DIR: dir },
    });

    const settings = () => ({
        description: "test host",
        files: [
            { path: path.join(dir, "etc/app/secret.env"), mode: "0600", content: "PASSWORD='it''s \"quoted\" $HOME `x`'\n" },
            { path: path.join(dir, "etc/app/plain.conf"), mode: "0644", content: "line one\nline two\n" },
        ],
        commands: [
            { run: `echo reload >> ${path.join(dir, "reloads")}`, when: [path.join(dir, "etc/app/plain.conf")] },
            { run: `echo always >> ${path.join(dir, "always")}` },
        ],
    });

    test("passes shellcheck", () => {
        const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: renderWiringScript(settings()), encoding: "utf8" });
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    test("installs files byte for byte with their modes, and is idempotent", () => {
        const s = settings();
        const first = run(renderWiringScript(s));
        assert.equal(first.status, 0, first.stderr);
        for (const f of s.files) {
            assert.equal(fs.readFileSync(f.path, "utf8"), f.content);
            assert.equal((fs.statSync(f.path).mode & 0o777).toString(8), f.mode.slice(1));
        }
        const second = run(renderWiringScript(s));
        assert.equal(second.status, 0, second.stderr);
        assert.equal(fs.readFileSync(path.join(dir, "reloads"), "utf8"), "reload\n", "the reload ran only when the file changed");
        assert.equal(fs.readFileSync(path.join(dir, "always"), "utf8"), "always\nalways\n");
        assert.match(second.stdout, /changed: $/m);
        const changed = { ...s, files: [s.files[0]!, { ...s.files[1]!, content: "line one\nline three\n" }] };
        assert.equal(run(renderWiringScript(changed)).status, 0);
        assert.equal(fs.readFileSync(path.join(dir, "reloads"), "utf8"), "reload\nreload\n");
        assert.equal(fs.readdirSync(path.join(dir, "etc/app")).length, 2, "no temp file left behind");
    });

    test("stops before touching anything when cloud-init failed", () => {
        fs.writeFileSync(path.join(dir, "cloud-init-failed"), "");
        try {
            const s = { ...settings(), files: [{ path: path.join(dir, "never/written"), mode: "0644", content: "x" }], commands: [] };
            const r = run(renderWiringScript(s));
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /cloud-init did not finish cleanly/);
            assert.equal(fs.existsSync(path.join(dir, "never")), false);
        } finally {
            fs.rmSync(path.join(dir, "cloud-init-failed"));
        }
    });

    test("a failing command fails the wiring", () => {
        const r = run(renderWiringScript({ description: "x", files: [], commands: [{ run: "false" }] }));
        assert.notEqual(r.status, 0);
    });

    test("rejects paths, modes and owners it cannot install safely", () => {
        assert.throws(() => renderWiringScript({ description: "x", files: [{ path: "relative/file", mode: "0644", content: "" }], commands: [] }), /must be absolute/);
        assert.throws(() => renderWiringScript({ description: "x", files: [{ path: "/a b", mode: "0644", content: "" }], commands: [] }), /free of spaces/);
        assert.throws(() => renderWiringScript({ description: "x", files: [{ path: "/a", mode: "644x", content: "" }], commands: [] }), /must be octal/);
        assert.throws(() => renderWiringScript({ description: "x", files: [{ path: "/a", mode: "0644", owner: "root", content: "" }], commands: [] }), /user:group/);
        assert.throws(() => renderWiringScript({ description: "x", files: [], commands: [{ run: "true", when: ["/nope"] }] }), /does not install/);
    });

    test("the bash it renders is syntactically valid for odd content", () => {
        const content = "DRR_FILE_0\n'\"`$(rm -rf /)`\n\u00e9\n";
        const script = renderWiringScript({ description: "it's", files: [{ path: path.join(dir, "odd"), mode: "0600", content }], commands: [] });
        execFileSync("bash", ["-n"], { input: script });
        assert.equal(run(script).status, 0);
        assert.equal(fs.readFileSync(path.join(dir, "odd"), "utf8"), content);
    });
});
