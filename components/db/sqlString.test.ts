import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { sqlIdentifier, sqlString } from "./sqlString";
import { startLocalMariadb, type LocalMariadb } from "./testing/localMariadb";

describe("sqlString / sqlIdentifier (pure)", () => {
  test("escapes quotes, backslashes and control characters", () => {
    assert.equal(sqlString(`a'b\\c`), `'a\\'b\\\\c'`);
    assert.equal(sqlString("x\0y\nz\r\x1a"), `'x\\0y\\nz\\r\\Z'`);
    assert.equal(sqlString(""), "''");
  });
  test("identifiers double backticks and reject NUL/empty", () => {
    assert.equal(sqlIdentifier("a`b"), "`a``b`");
    assert.throws(() => sqlIdentifier(""), /invalid SQL identifier/);
    assert.throws(() => sqlIdentifier("a\0"), /invalid SQL identifier/);
  });
});

describe("sqlString against a real MariaDB (a Galera node)", () => {
  let db: LocalMariadb;
  before(async () => {
    db = await startLocalMariadb();
  });
  after(async () => {
    await db?.stop();
  });

  const nasty = [`pa'ss"wo\\rd`, "\\", "'", "\\'", "'; DROP DATABASE mysql; --", "a\0b", "line\nbreak\r\n", "\x1a", "é€😀", "\t%_"];

  test("every string literal round-trips byte for byte (HEX compared)", () => {
    const samples = [
      ...nasty,
      ...fc.sample(fc.string({ unit: "grapheme", maxLength: 30 }), { numRuns: 150, seed: 42 }),
      ...fc.sample(fc.string({ unit: "binary-ascii", maxLength: 30 }), { numRuns: 150, seed: 7 }),
    ];
    const query = samples.map((s, i) => `SELECT ${i}, HEX(${sqlString(s)});`).join("\n");
    const got = db.sql(query).trim().split("\n");
    assert.equal(got.length, samples.length);
    got.forEach((line, i) => {
      const [index, hex] = line.split("\t");
      assert.equal(Number(index), i);
      assert.equal(hex, Buffer.from(samples[i], "utf8").toString("hex").toUpperCase(), `sample ${JSON.stringify(samples[i])}`);
    });
  });

  test("identifiers with backticks work as real table names", () => {
    const name = "we`ird tbl";
    db.sql(`CREATE DATABASE t1; CREATE TABLE t1.${sqlIdentifier(name)} (x INT); INSERT INTO t1.${sqlIdentifier(name)} VALUES (7);`);
    assert.equal(db.sql(`SELECT x FROM t1.${sqlIdentifier(name)};`).trim(), "7");
    assert.equal(db.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 't1';").trim(), name);
  });
});
