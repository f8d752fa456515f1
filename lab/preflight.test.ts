/**
 * The lab's preflight against stand-ins for dpkg-query and apt-get (first on PATH): it installs
 * what the one list names and this machine lacks, with one line per step and apt's output in a log
 * file; it says nothing when all is there; a failing apt names the step, the log and its last lines.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packagesFor } from "./hostPackages";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drr-preflight-"));
const bin = path.join(dir, "bin");
const installedFile = path.join(dir, "installed");
// The module reads its log path from DRR_LAB_DIR when first loaded.
process.env.DRR_LAB_DIR = path.join(dir, "lab");

describe("preflight", { skip: process.getuid?.() !== 0 ? "needs root (the preflight refuses otherwise)" : false }, () => {
    let preflight: typeof import("./preflight").preflight;
    let logFile: string;
    const savedPath = process.env.PATH;

    before(async () => {
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "dpkg-query"), `#!/bin/sh\n# -W -f=\${Status} PKG\neval pkg=\\$$#\ngrep -qx "$pkg" ${installedFile} && printf 'install ok installed' && exit 0\nexit 1\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "apt-get"), `#!/bin/sh\necho "apt-get $*"\n[ -n "$FAKE_APT_FAIL" ] && [ "$1" = "$FAKE_APT_FAIL" ] && { echo "E: Unable to locate package nope"; exit 100; }\nif [ "$1" = install ]; then shift 3; for p in "$@"; do echo "$p" >> ${installedFile}; done; fi\n`, { mode: 0o755 });
        process.env.PATH = `${bin}:${savedPath}`;
        ({ preflight } = await import("./preflight"));
        logFile = (await import("./preflight")).PREFLIGHT_APT_LOG;
    });
    after(() => {
        process.env.PATH = savedPath;
        delete process.env.FAKE_APT_FAIL;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("installs the missing \"lab\" packages, a line per step, apt's output in the log", () => {
        const lab = packagesFor(["lab"]);
        fs.writeFileSync(installedFile, `${lab.filter((p) => p !== "pebble").join("\n")}\n`);
        const lines: string[] = [];
        preflight((l) => lines.push(l));
        assert.equal(lines.length, 3, lines.join("\n"));
        assert.match(lines[0]!, new RegExp(`^installing 1 Debian package\\(s\\) the lab runs: pebble \\(apt's output: ${logFile.replace(/[.]/g, "\\.")}\\)$`));
        assert.match(lines[1]!, /^ {2}apt-get update: done in \d+\.\d s$/);
        assert.match(lines[2]!, /^ {2}apt-get install \(1\): done in \d+\.\d s$/);
        assert.equal(fs.readFileSync(logFile, "utf8"), "apt-get update\napt-get install -y --no-install-recommends pebble\n");
        assert.ok(fs.readFileSync(installedFile, "utf8").split("\n").includes("pebble"));
    });

    test("with everything installed it says nothing and runs no apt", () => {
        fs.writeFileSync(logFile, "untouched");
        const lines: string[] = [];
        preflight((l) => lines.push(l));
        assert.deepEqual(lines, []);
        assert.equal(fs.readFileSync(logFile, "utf8"), "untouched");
    });

    test("the bench's packages come along when asked for", () => {
        const lines: string[] = [];
        preflight((l) => lines.push(l), ["lab", "bench"]);
        assert.match(lines[0]!, new RegExp(`installing ${packagesFor(["bench"]).length} Debian package\\(s\\) the lab runs: ${packagesFor(["bench"]).join(" ")} `));
    });

    test("a failing apt-get names the step, the log and its last lines; nothing is said to be done", () => {
        fs.writeFileSync(installedFile, "");
        process.env.FAKE_APT_FAIL = "install";
        const lines: string[] = [];
        try {
            assert.throws(() => preflight((l) => lines.push(l)), (e: Error) => {
                assert.match(e.message, /^apt-get install \(\d+\) failed \(exit 100\); the last lines of .*preflight-apt\.log:\n/);
                assert.match(e.message, /E: Unable to locate package nope/);
                assert.match(e.message, /install by hand: apt-get install systemd-container /);
                return true;
            });
        } finally {
            delete process.env.FAKE_APT_FAIL;
        }
        assert.equal(lines.filter((l) => l.includes("install (")).length, 0, lines.join("\n"));
    });
});
