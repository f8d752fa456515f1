import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkWith } from "../../test/support/tools";
import { parseAgentSettings, AGENT_UNIT } from "./agent/settings";
import { DEFAULT_TIMING, renderAgentSettings, renderAgentUnit } from "./agentFiles";

const input = {
    self: { name: "lb-nyc3-1", privateIpv4: "10.110.0.5" },
    observers: [{ name: "lb-nyc3-1", privateIpv4: "10.110.0.5" }, { name: "lb-ams3-1", privateIpv4: "10.111.0.5" }, { name: "witness", privateIpv4: "10.112.0.2" }],
    port: 8405,
    entryPoints: [{ region: "nyc3", ipv4: "192.0.2.10", healthUrl: "http://192.0.2.10/lb-health" }, { region: "ams3", ipv4: "192.0.2.20", healthUrl: "http://192.0.2.20/lb-health" }],
    siteName: "www.example.com", domain: "example.com", recordName: "www", ttl: 30, timing: DEFAULT_TIMING, apiUrl: "https://api.digitalocean.com",
};

describe("agent files", () => {
    test("settings: peers are every other observer on its private address; the agent accepts the file", () => {
        const s = parseAgentSettings(renderAgentSettings(input));
        assert.deepEqual(s.peers, [{ id: "lb-ams3-1", url: "http://10.111.0.5:8405" }, { id: "witness", url: "http://10.112.0.2:8405" }]);
        assert.deepEqual(s.listen, { host: "10.110.0.5", port: 8405 });
        assert.equal(s.viewMaxAgeMs, 3700);
    });
    test("settings: bad timing fails at render time, naming the field", () => {
        assert.throws(() => renderAgentSettings({ ...input, timing: { ...DEFAULT_TIMING, timeoutMs: 1000 } }), /timeoutMs 1000 must be below intervalMs 1000/);
        assert.throws(() => renderAgentSettings({ ...input, timing: { ...DEFAULT_TIMING, downAfter: 0 } }), /downAfter 0 must be a whole number from 1 to 100/);
        assert.throws(() => renderAgentSettings({ ...input, observers: [...input.observers, input.observers[1]!] }), /"lb-ams3-1" is listed twice/);
    });
    test("parseAgentSettings names what is wrong", () => {
        assert.throws(() => parseAgentSettings("{"), /is not JSON/);
        assert.throws(() => parseAgentSettings(JSON.stringify({ ...JSON.parse(renderAgentSettings(input)), entryPoints: [] })), /entryPoints must list at least one/);
        assert.throws(() => parseAgentSettings(JSON.stringify({ ...JSON.parse(renderAgentSettings(input)), apiUrl: "ftp://x" })), /apiUrl "ftp:\/\/x" must be an http\(s\) URL/);
    });
    test("the unit passes systemd-analyze verify, and a broken one does not", () => {
        const ok = checkWith("systemd-analyze", ["verify", "--man=no", "{}"], renderAgentUnit().replace("/usr/bin/node", process.execPath), AGENT_UNIT);
        assert.equal(ok.status, 0, ok.output);
        const bad = checkWith("systemd-analyze", ["verify", "--man=no", "{}"], renderAgentUnit().replace("/usr/bin/node", "/no/such/node"), AGENT_UNIT);
        assert.notEqual(bad.status, 0, bad.output);
    });
});
