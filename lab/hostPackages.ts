/**
 * The Debian packages this machine needs, from the one list `scripts/debian-packages.json` that
 * `scripts/install-deps.sh` reads too, so the lab's preflight and the tests' installer cannot
 * drift apart. `lab/hostPackages.test.ts` checks the list against what the sources run.
 */
import * as fs from "fs";
import * as path from "path";

/** `scripts/debian-packages.json`: Debian packages by who needs them on this machine. */
export interface DebianPackageLists {
    /** What `npm run lab` runs on this machine (its preflight installs them). */
    readonly lab: readonly string[];
    /** What `npm run bench` adds: wrk, and the local MariaDB/Galera of the conflict bench. */
    readonly bench: readonly string[];
    /** What only the tests use (`scripts/install-deps.sh` installs all three lists). */
    readonly test: readonly string[];
}

export type PackageUser = keyof DebianPackageLists;

export const DEBIAN_PACKAGES_FILE = path.join(__dirname, "..", "scripts", "debian-packages.json");

/** Reads and checks the package lists; names the file and the key when one is malformed. */
export function readDebianPackages(file = DEBIAN_PACKAGES_FILE): DebianPackageLists {
    const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    const list = (key: PackageUser): string[] => {
        const v = raw[key];
        if (!Array.isArray(v) || !v.every((p) => typeof p === "string" && /^[a-z0-9][a-z0-9+.-]+$/.test(p))) {
            throw new Error(`${file}: "${key}" must be a list of Debian package names, got ${JSON.stringify(v)}`);
        }
        return v as string[];
    };
    return { lab: list("lab"), bench: list("bench"), test: list("test") };
}

/** The packages of the given users, once each, in the file's order. */
export function packagesFor(users: readonly PackageUser[], lists: DebianPackageLists = readDebianPackages()): string[] {
    return [...new Set(users.flatMap((u) => lists[u]))];
}
