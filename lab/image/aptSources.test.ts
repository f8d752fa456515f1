import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { mirrorForSuite, parseDeb822Sources, readHostSources, renderDeb822Sources } from "./aptSources";

const SAMPLE = `Types: deb deb-src
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

/** What apt itself would download for a sources file (offline: --print-uris). */
function aptUris(sourcesText: string): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "drr-apt-"));
  try {
    writeFileSync(path.join(dir, "lab.sources"), sourcesText);
    const out = execFileSync(
      "apt-get",
      ["-o", "Dir::Etc::SourceList=/dev/null", "-o", `Dir::Etc::SourceParts=${dir}`, "--print-uris", "update"],
      { encoding: "utf8" },
    );
    return out
      .split("\n")
      .map((l) => l.split(" ")[0]!.replace(/'/g, ""))
      .filter((u) => u.startsWith("http"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("deb822 apt sources", () => {
  test("parses binary stanzas only, keeping URIs, suites, components, key", () => {
    const s = parseDeb822Sources(SAMPLE);
    assert.equal(s.length, 2);
    assert.deepEqual(s[0], {
      uris: ["http://deb.debian.org/debian"],
      suites: ["bookworm", "bookworm-updates"],
      components: ["main"],
      signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
    });
    assert.deepEqual(s[1]!.components, ["main", "contrib"]);
  });

  test("mirror for the release suite is the main archive, not -security", () => {
    const s = parseDeb822Sources(SAMPLE);
    assert.equal(mirrorForSuite(s, "bookworm"), "http://deb.debian.org/debian");
    assert.equal(mirrorForSuite(s, "bookworm-security"), "http://deb.debian.org/debian-security");
    assert.throws(() => mirrorForSuite(s, "trixie"), /no apt source/);
  });

  test("apt reads the rendered file as the same indexes as the original (binary part)", () => {
    const rendered = renderDeb822Sources(parseDeb822Sources(SAMPLE));
    const want = aptUris(SAMPLE).filter((u) => !u.includes("/source/") && !u.includes("src.example"));
    const got = aptUris(rendered);
    assert.ok(got.length >= 3, got.join("\n"));
    assert.deepEqual(got.sort(), want.sort());
    assert.ok(!got.some((u) => u.includes("/source/")), "no deb-src indexes");
    assert.ok(got.some((u) => u.includes("debian-security/dists/bookworm-security/contrib")), "contrib kept");
  });

  test("the host's own sources give the bookworm mirror", () => {
    assert.match(mirrorForSuite(readHostSources(), "bookworm"), /^https?:\/\//);
  });
});
