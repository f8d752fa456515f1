import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseFault, ROLE_DAEMONS } from "./faultCommand";

const HOSTS = ["lab-lb-nyc3-1", "lab-db-ams3-1"];
const REGIONS = ["nyc3", "ams3", "sfo3"];

describe("lab fault arguments", () => {
    test("each kind parses", () => {
        assert.deepEqual(parseFault(["kill", "lab-db-ams3-1"], HOSTS, REGIONS), { kind: "kill", host: "lab-db-ams3-1" });
        assert.deepEqual(parseFault(["stop-host", "lab-lb-nyc3-1"], HOSTS, REGIONS), { kind: "stop-host", host: "lab-lb-nyc3-1" });
        assert.deepEqual(parseFault(["partition", "nyc3", "ams3"], HOSTS, REGIONS), { kind: "partition", regions: ["nyc3", "ams3"] });
        assert.deepEqual(parseFault(["latency", "nyc3", "sfo3", "120"], HOSTS, REGIONS), { kind: "latency", regions: ["nyc3", "sfo3"], ms: 120 });
    });
    test("bad input names what is wrong and what is allowed", () => {
        assert.throws(() => parseFault(["kill", "lab-nope"], HOSTS, REGIONS), /host "lab-nope" is not a droplet of this lab; droplets: lab-lb-nyc3-1, lab-db-ams3-1/);
        assert.throws(() => parseFault(["partition", "nyc3", "mars1"], HOSTS, REGIONS), /region "mars1" is not a region of this lab; regions: nyc3, ams3, sfo3/);
        assert.throws(() => parseFault(["partition", "nyc3", "nyc3"], HOSTS, REGIONS), /two different regions/);
        assert.throws(() => parseFault(["latency", "nyc3", "ams3", "-5"], HOSTS, REGIONS), /MS "-5" must be a whole number of milliseconds from 0 to 5000/);
        assert.throws(() => parseFault(["latency", "nyc3", "ams3"], HOSTS, REGIONS), /MS ""/);
        assert.throws(() => parseFault(["melt", "x"], HOSTS, REGIONS), /unknown fault "melt"[\s\S]*fault kill HOST/);
        assert.throws(() => parseFault(["kill", "lab-lb-nyc3-1", "extra"], HOSTS, REGIONS), /takes one host/);
    });
    test("every role has a daemon to kill", () => {
        for (const role of ["lb", "app", "db", "cache", "witness"]) assert.ok((ROLE_DAEMONS[role] ?? []).length > 0, role);
    });
});
