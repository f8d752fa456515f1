import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import { renderTimelineSvg } from "./svg";
import { niceAxis } from "./scale";
import { buildTimeline, Timeline } from "./timeline";

/** Parses with libxml2's xmllint (Debian libxml2-utils, installed by scripts/install-deps.sh). */
function xmllint(text: string): { ok: boolean; output: string } {
    const r = spawnSync("xmllint", ["--noout", "-"], { input: text, encoding: "utf8" });
    if (r.error) throw new Error(`xmllint: ${r.error.message} (install libxml2-utils: scripts/install-deps.sh)`);
    return { ok: r.status === 0, output: r.stderr };
}

/** Values of an XPath over the SVG (namespace stripped by local-name()). */
function xpath(text: string, expr: string): string {
    return spawnSync("xmllint", ["--xpath", expr, "-"], { input: text, encoding: "utf8" }).stdout;
}

const tl: Timeline = buildTimeline(12, [
    { name: "requests/s", unit: "req/s", axis: "left", values: [100, 100, 98, 100, 40, 0, 0, 80, 100, 100, 100, 100] },
    { name: "errors/s", unit: "req/s", axis: "left", values: [0, 0, 2, 0, 60, 100, 100, 20, 0, 0, 0, 0] },
    { name: "lag <db1> → db2 & \"q\"", unit: "ms", axis: "right", values: [1, 2, null, null, 900, 2500, 3000, 700, 3, 2, 1, 1] },
], [{ t: 4.2, label: "kill <mariadb> & 'co'" }, { t: 7, label: "restart" }]);

describe("niceAxis", () => {
    test("1-2-5 steps covering the maximum", () => {
        assert.deepEqual(niceAxis(98), { max: 100, step: 20, ticks: [0, 20, 40, 60, 80, 100] });
        assert.deepEqual(niceAxis(3000).ticks, [0, 1000, 2000, 3000]);
        assert.deepEqual(niceAxis(0.7).ticks, [0, 0.2, 0.4, 0.6, 0.8]);
        assert.deepEqual(niceAxis(0).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
        assert.deepEqual(niceAxis(12, 10).ticks, [0, 2, 4, 6, 8, 10, 12]);
    });
});

describe("renderTimelineSvg", () => {
    const svg = renderTimelineSvg(tl, { title: "Run <1> & faults" });
    test("is well-formed XML (xmllint)", () => {
        const r = xmllint(svg);
        assert.ok(r.ok, r.output);
    });
    test("standalone: SVG namespace, no script, no external reference, no stylesheet", () => {
        assert.match(svg, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
        assert.doesNotMatch(svg, /<script|<style|@import|href=|url\(/i);
    });
    test("text is escaped and reads back as given", () => {
        assert.equal(xpath(svg, "string(//*[local-name()='title'][1])").trim(), "Run <1> & faults");
        const texts = xpath(svg, "//*[local-name()='text']/text()");
        assert.ok(texts.includes("kill &lt;mariadb&gt; &amp; 'co'"), texts);
        assert.ok(texts.includes("lag &lt;db1&gt; → db2 &amp; \"q\" (ms, right axis)"), texts);
    });
    test("a path per series, the gap in lag splits its line, a dashed line per marker", () => {
        const d = xpath(svg, "//*[local-name()='path']/@d").match(/d="[^"]*"/g) ?? [];
        assert.equal(d.length, 3);
        assert.equal((d[2].match(/M/g) ?? []).length, 2);
        assert.equal(Number(xpath(svg, "count(//*[local-name()='line'][@stroke='#555'])")), 2);
    });
    test("axes with ticks and units: time in seconds, req/s on the left, ms on the right", () => {
        const texts = xpath(svg, "//*[local-name()='text']/text()");
        for (const s of ["time (s)", "req/s", "ms", "3000", "100"]) assert.ok(texts.includes(s), s);
    });
    test("empty timeline still renders a well-formed chart", () => {
        const r = xmllint(renderTimelineSvg({ seconds: 0, series: [], markers: [] }, { title: "empty" }));
        assert.ok(r.ok, r.output);
    });
});
