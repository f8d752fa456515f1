/**
 * The one package list (`scripts/debian-packages.json`) against what the code runs: every command
 * named in the lab's, the bench's and the tests' sources that is an executable here must come
 * (`dpkg -S`) from a package of the right list, or from one every Debian system has (Priority:
 * required). So a new command the lab runs fails here until its package is listed, and a fresh
 * machine's `npm run lab` cannot stop on a missing one (pebble once did).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packagesFor, readDebianPackages, type PackageUser } from "./hostPackages";

const ROOT = path.join(__dirname, "..");

/** Words in the sources that name an executable here but are not run on this machine. */
const NOT_RUN_HERE: Readonly<Record<string, string>> = {
    systemctl: "run inside the droplets (systemd is PID 1 there, not here)",
    systemd: "the droplets' init, booted by systemd-nspawn",
    "cloud-init": "runs inside the droplets",
    nodejs: "a droplet package (the DNS agent's runtime)",
    node: "this machine's Node.js 20 runs everything: the prerequisite, not a Debian package here",
    "g++": "a package name in a test of the droplet image's package list",
};

/** Quoted words that happen to be executables too, but are keys or prose here. */
const NOT_COMMANDS = new Set(["host", "file", "write", "size", "route", "ed", "open"]);

/** The .ts files under `dir` (relative to the repository), tests included or not. */
function sources(dir: string, withTests: boolean): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) {
                if (e.name !== "node_modules") walk(p);
            } else if (e.name.endsWith(".ts") && (withTests || !/\.test\.ts$|testSupport\.ts$|\.fixture\.ts$/.test(e.name))) {
                out.push(p);
            }
        }
    };
    walk(path.join(ROOT, dir));
    return out;
}

/** Quoted single words in `files` -> the files they appear in. */
function quotedWords(files: readonly string[]): Map<string, string[]> {
    const words = new Map<string, string[]>();
    for (const f of files) {
        for (const m of fs.readFileSync(f, "utf8").matchAll(/["'`]([a-z][a-z0-9._+-]{1,40})["'`]/g)) {
            words.set(m[1]!, [...new Set([...(words.get(m[1]!) ?? []), path.relative(ROOT, f)])]);
        }
    }
    return words;
}

const BIN_DIRS = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const owners = new Map<string, string | null>();
/**
 * The package that gives executable `cmd` here (dpkg -S), "?" when no package owns it, or null
 * when it is no executable here. dpkg records a file by the path its package ships, which on a
 * /usr-merged system may be any of the four directories, or the target of a symlink.
 */
function ownerOf(cmd: string): string | null {
    if (owners.has(cmd)) return owners.get(cmd)!;
    const found = BIN_DIRS.map((d) => path.join(d, cmd)).find((p) => fs.existsSync(p));
    let owner: string | null = null;
    if (found) {
        owner = "?";
        for (const candidate of [fs.realpathSync(found), ...BIN_DIRS.map((d) => path.join(d, cmd))]) {
            const r = spawnSync("dpkg", ["-S", candidate], { encoding: "utf8" });
            // "pkg: /path"; a diverted file also prints "diversion by ..." lines first.
            const line = r.stdout.split("\n").find((l) => /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?: \//.test(l));
            if (line) {
                owner = line.slice(0, line.indexOf(":"));
                break;
            }
        }
    }
    owners.set(cmd, owner);
    return owner;
}

/** One installed package as dpkg knows it. */
interface Installed {
    readonly priority: string;
    /** Every name in Depends and Pre-Depends, alternatives included. */
    readonly depends: readonly string[];
}

let database: { packages: Map<string, Installed>; providers: Map<string, string[]> } | undefined;
/** Every installed package, and who provides each (virtual) name: read once, with one dpkg-query. */
function installedPackages(): NonNullable<typeof database> {
    if (database) return database;
    const packages = new Map<string, Installed>();
    const providers = new Map<string, string[]>();
    const r = spawnSync("dpkg-query", ["-W", "-f=${Package}\t${db:Status-Status}\t${Priority}\t${Provides}\t${Depends}, ${Pre-Depends}\n"], { encoding: "utf8", maxBuffer: 64 << 20 });
    for (const line of r.stdout.split("\n")) {
        const [pkg, status, priority, provides, depends] = line.split("\t");
        if (!pkg || status !== "installed") continue;
        const names = (list: string | undefined, sep: RegExp) => (list ?? "").split(sep).map((x) => x.trim().split(" ")[0]!.split(":")[0]!).filter(Boolean);
        packages.set(pkg, { priority: priority ?? "", depends: names(depends, /[,|]/) });
        for (const v of [pkg, ...names(provides, /,/)]) providers.set(v, [...(providers.get(v) ?? []), pkg]);
    }
    return (database = { packages, providers });
}

/** `pkgs` and every installed package they depend on (Depends, Pre-Depends), transitively. */
function withDependencies(pkgs: readonly string[]): Set<string> {
    const { packages, providers } = installedPackages();
    const seen = new Set<string>();
    const queue = [...pkgs];
    while (queue.length > 0) {
        const p = queue.pop()!;
        if (seen.has(p)) continue;
        seen.add(p);
        for (const dep of packages.get(p)?.depends ?? []) for (const q of providers.get(dep) ?? []) if (!seen.has(q)) queue.push(q);
    }
    return seen;
}

function priority(pkg: string): string {
    return installedPackages().packages.get(pkg)?.priority ?? "";
}

/** Executables named in `files` whose package is neither in `users`' lists nor required. */
function unlisted(files: readonly string[], users: readonly PackageUser[]): string[] {
    // A command may come from a listed package or from one it pulls in (mariadb-server -> mariadb-server-core).
    const allowed = withDependencies(packagesFor(users));
    const problems: string[] = [];
    for (const [word, where] of quotedWords(files)) {
        if (word in NOT_RUN_HERE || NOT_COMMANDS.has(word)) continue;
        const pkg = ownerOf(word);
        if (pkg === null) continue;
        if (pkg === "?") {
            problems.push(`${word} (in ${where.join(", ")}): an executable here that no package owns`);
        } else if (!allowed.has(pkg) && priority(pkg) !== "required") {
            problems.push(`${word} (in ${where.join(", ")}) comes from ${pkg}, which is not in ${users.map((u) => `"${u}"`).join(" or ")}`);
        }
    }
    return problems;
}

describe("the one Debian package list", { skip: spawnSync("dpkg", ["--version"]).status !== 0 ? "needs dpkg (Debian)" : false }, () => {
    test("parses; no package twice; a malformed list is refused naming the key", () => {
        const lists = readDebianPackages();
        const all = [...lists.lab, ...lists.bench, ...lists.test];
        assert.equal(new Set(all).size, all.length, `listed twice: ${all.filter((p, i) => all.indexOf(p) !== i).join(" ")}`);
        assert.ok(lists.lab.includes("pebble"), "the lab's ACME CA");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drr-pkgs-"));
        try {
            const bad = path.join(dir, "p.json");
            fs.writeFileSync(bad, JSON.stringify({ lab: ["pebble"], bench: "wrk", test: [] }));
            assert.throws(() => readDebianPackages(bad), /"bench" must be a list of Debian package names, got "wrk"/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("scripts/install-deps.sh installs exactly the three lists", () => {
        const r = spawnSync("bash", [path.join(ROOT, "scripts", "install-deps.sh"), "--list"], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n"), packagesFor(["lab", "bench", "test"]));
    });

    test("every executable the lab names (lab/, not its tests) comes from a \"lab\" package or a required one", () => {
        // The droplets' packages are the image's, not this machine's.
        const files = sources("lab", false).filter((f) => !f.includes(`${path.sep}testing${path.sep}`) && !f.endsWith("imagePackages.ts"));
        assert.ok(files.length > 40, `${files.length} files`);
        assert.deepEqual(unlisted(files, ["lab"]), []);
    });

    test("every executable the bench names comes from a \"lab\" or \"bench\" package or a required one", () => {
        assert.deepEqual(unlisted(sources("bench", false), ["lab", "bench"]), []);
    });

    test("every executable any source names, tests included, comes from a listed or required package", () => {
        const files = ["components", "lab", "bench", "policy", "test", "scripts"].filter((d) => fs.existsSync(path.join(ROOT, d))).flatMap((d) => sources(d, true));
        assert.deepEqual(unlisted(files.filter((f) => !f.endsWith("imagePackages.ts")), ["lab", "bench", "test"]), []);
    });

    test("the check notices an unlisted command (guards the ones above)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drr-pkgs-"));
        try {
            const f = path.join(dir, "uses.ts");
            fs.writeFileSync(f, 'spawnSync("pebble", ["-config", "x"]);\nrun("wrk", []);\n');
            assert.deepEqual(unlisted([f], ["lab"]).map((p) => p.split(" ")[0]), ["wrk"], "wrk is the bench's, not the lab's");
            assert.match(unlisted([f], ["test"])[0]!, /^pebble .* comes from pebble, which is not in "test"/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
