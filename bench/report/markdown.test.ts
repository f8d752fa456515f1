import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mdTable, renderMarkdown, BenchReport } from "./markdown";
import { mdEscape } from "./escape";
import { fmt } from "./format";
import { overallStats } from "./stats";
import { rec } from "./testing";

/** The cells of a rendered table row, split on unescaped pipes. */
function cells(line: string): string[] {
    return line.slice(2, -2).split(/(?<!\\) \| /);
}

describe("mdEscape", () => {
    test("<, >, & become entities; |, \\, `, *, _, [ ] are backslash-escaped; newlines become spaces", () => {
        assert.equal(mdEscape("a<b>&c|d"), "a&lt;b&gt;&amp;c\\|d");
        assert.equal(mdEscape("x\\y `z` *w* _v_ [l](u)"), "x\\\\y \\`z\\` \\*w\\* \\_v\\_ \\[l\\](u)");
        assert.equal(mdEscape("one\ntwo\r\nthree"), "one two three");
    });
});

describe("mdTable", () => {
    const t = mdTable([{ title: "Name" }, { title: "req/s", align: "right" }], [["a|b", "12.5"], ["<x> & y", "3"]]);
    const lines = t.split("\n");
    test("every line has the same length and the pipes in the same columns", () => {
        assert.equal(new Set(lines.map((l) => l.length)).size, 1);
        const pipes = (l: string) => [...l].flatMap((c, k) => (c === "|" && l[k - 1] !== "\\" ? [k] : []));
        assert.deepEqual(pipes(lines[1]), pipes(lines[0]));
        for (const l of lines) assert.deepEqual(pipes(l), pipes(lines[0]));
    });
    test("the separator row aligns numbers right and text left; numbers are padded on the left", () => {
        assert.match(lines[1], /^\| :-+ \| -+: \|$/);
        assert.deepEqual(cells(lines[3]), ["&lt;x&gt; &amp; y", "    3"]);
    });
    test("cells are escaped, an escaped pipe does not split the row", () => {
        assert.deepEqual(cells(lines[2]).map((c) => c.trim()), ["a\\|b", "12.5"]);
        assert.equal(cells(lines[2]).length, 2);
    });
    test("an empty table is its head and separator", () => {
        assert.equal(mdTable([{ title: "A" }], []), "| A   |\n| :-- |");
    });
});

describe("renderMarkdown", () => {
    const stats = overallStats([rec(0, 0, 10), rec(1, 500, 20), rec(2, 900, 5, false)], 1);
    const report: BenchReport = {
        title: "Bench <run> & co",
        parameters: { duration: "10 s", "rate|per side": 200 },
        scenarios: [{
            name: "lb|cost",
            description: "through <proxy> & direct",
            figures: [
                { name: "ok req/s", unit: "req/s", a: { label: "through proxy", value: 190 }, b: { label: "direct", value: 200 } },
                { name: "p99 latency", unit: "ms", a: { label: "through proxy", value: 3 }, b: { label: "direct", value: 0 } },
                { name: "acked writes lost", unit: "writes", a: { label: "store", value: 0 } },
            ],
            loads: [{ label: "direct", stats }],
            markers: [{ t: 1.5, label: "pause <srv>" }],
        }],
        timelineSvg: "timeline.svg",
    };
    const md = renderMarkdown(report);
    test("title and parameters escaped", () => {
        assert.match(md, /^# Bench &lt;run&gt; &amp; co\n/);
        assert.match(md, /^- rate\\\|per side: 200$/m);
    });
    test("figures side by side with the ratio; none for a zero divisor or a single side", () => {
        const row = md.split("\n").find((l) => l.startsWith("| lb\\|cost") && l.includes("ok req/s")) as string;
        assert.deepEqual(cells(row).map((c) => c.trim()), ["lb\\|cost", "ok req/s", "req/s", "through proxy", "190", "direct", "200", "0.95"]);
        const p99 = md.split("\n").find((l) => l.includes("p99 latency")) as string;
        assert.equal(cells(p99).at(-1)?.trim(), "—");
        const lost = md.split("\n").find((l) => l.includes("acked writes lost")) as string;
        assert.deepEqual(cells(lost).slice(5).map((c) => c.trim()), ["", "", "—"]);
    });
    test("load per side: counts, errors, throughput, percentiles, errors by kind", () => {
        const row = md.split("\n").find((l) => l.startsWith("| lb\\|cost") && l.includes("timeout")) as string;
        assert.deepEqual(cells(row).map((c) => c.trim()), ["lb\\|cost", "direct", "3", "1", "2", "10", "20", "20", "20", "timeout: 1"]);
    });
    test("scenario notes, markers and the chart link", () => {
        assert.match(md, /^through &lt;proxy&gt; &amp; direct$/m);
        assert.match(md, /^- at 1\.5 s: pause &lt;srv&gt;$/m);
        assert.match(md, /!\[[^\]]*\]\(timeline\.svg\)/);
    });
    test("fmt", () => {
        assert.deepEqual([fmt(null), fmt(3), fmt(2.3456), fmt(1 / 3, 3), fmt(Number.NaN)], ["—", "3", "2.35", "0.333", "—"]);
    });
});
