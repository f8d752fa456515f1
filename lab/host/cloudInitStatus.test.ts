import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cloudInitSucceeded, formatCloudInitFailure, parseCloudInitStatusJson } from "./cloudInitStatus";

// Captured from a lab container whose image lacked the locale (cloud-init 22.4.2).
const ERROR_JSON = JSON.stringify({
  _schema_version: "1",
  boot_status_code: "enabled-by-generator",
  datasource: "nocloud",
  detail: "('locale', ProcessExecutionError(...))",
  errors: ["('locale', ProcessExecutionError(\"Unexpected error while running command.\"))"],
  status: "error",
});

describe("cloud-init status parsing", () => {
  test("parses the real tool's JSON (host cloud-init, never run here)", () => {
    const r = spawnSync("cloud-init", ["status", "--format", "json"], { encoding: "utf8" });
    const parsed = parseCloudInitStatusJson(r.stdout);
    assert.equal(parsed.status, "not run");
    assert.deepEqual(parsed.errors, []);
    assert.equal(cloudInitSucceeded(parsed), false);
  });

  test("keeps every error and treats them as failure even with status done", () => {
    const parsed = parseCloudInitStatusJson(ERROR_JSON);
    assert.equal(parsed.status, "error");
    assert.equal(parsed.errors.length, 1);
    assert.match(parsed.errors[0]!, /locale/);
    assert.equal(cloudInitSucceeded({ status: "done", errors: ["x"] }), false);
    assert.equal(cloudInitSucceeded({ status: "done", errors: [] }), true);
  });

  test("rejects output that is not JSON (e.g. tabular dots)", () => {
    assert.throws(() => parseCloudInitStatusJson("....\nstatus: done\n"), /no JSON/);
  });

  test("failure report names the host, each error and the log tail", () => {
    const text = formatCloudInitFailure("lb-1", { status: "error", errors: ["e1", "e2"], outputTail: "line a\nline b" });
    assert.match(text, /^cloud-init on lb-1: status error$/m);
    assert.match(text, /error: e1\n.*error: e2/);
    assert.match(text, /^ {2}line b$/m);
  });
});
