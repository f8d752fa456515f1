/** The DB cluster's lines in `npm run lab -- status`, from db-health answers (parsed as the lab parses them). */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { describeDbCluster, DbNodeStatus } from "./dbStatus";
import { parseDbHealth } from "./testing/dbCluster";

const healthy = '{"healthy":true,"state":"Synced","cluster_status":"Primary","ready":true,"cluster_size":3,"expected_size":3,"addresses":["10.110.0.3:3306"],"last_committed":653,"recv_queue":0,"flow_control_paused":0,"cert_failures":0,"problems":[]}';
const cutOff = '{"healthy":false,"state":"Initialized","cluster_status":"non-Primary","ready":false,"cluster_size":1,"expected_size":3,"addresses":[],"last_committed":700,"recv_queue":0,"flow_control_paused":0,"cert_failures":0,"problems":["not in the primary component (non-Primary): this side of a partition has no quorum","state Initialized, not Synced"]}';
const down = '{"healthy":false,"state":"down","problems":["cannot query MariaDB: ERROR 2002 (HY000): Can\'t connect"]}';

const node = (host: string, out: string, code: number): DbNodeStatus => ({ host, region: host.split("-")[2]!, ...parseDbHealth(out, code) });

describe("parseDbHealth", () => {
    test("healthy, cut off, down, and no JSON at all (unreachable)", () => {
        assert.deepEqual({ ...parseDbHealth(`${healthy}\n`, 0), problems: [] }, { code: 0, healthy: true, state: "Synced", clusterStatus: "Primary", ready: true, clusterSize: 3, expectedSize: 3, lastCommitted: 653, problems: [], serving: true, fallback: true });
        const c = parseDbHealth(cutOff, 3);
        assert.equal(c.serving, false);
        assert.equal(c.fallback, false, "a node without quorum is no fallback");
        const donor = parseDbHealth(healthy.replace('"Synced"', '"Donor/Desynced"').replace('"healthy":true', '"healthy":false'), 3);
        assert.deepEqual([donor.serving, donor.fallback], [false, true], "a donor in the primary component is the app's fallback");
        assert.equal(c.clusterStatus, "non-Primary");
        assert.equal(parseDbHealth(down, 2).state, "down");
        assert.equal(parseDbHealth(down, 2).clusterStatus, null);
        assert.deepEqual(parseDbHealth("", 124).problems, ["no answer within the timeout"]);
        assert.equal(parseDbHealth("nsenter: cannot open /proc/4242/ns/mnt: No such file or directory\n", 1).state, "unreachable");
        assert.deepEqual(parseDbHealth("nsenter: cannot open /proc/4242/ns/mnt: No such file or directory\n", 1).problems, ["nsenter: cannot open /proc/4242/ns/mnt: No such file or directory"]);
    });
});

describe("describeDbCluster", () => {
    test("one row per node, the problems of the unhealthy ones, the arbitrator's service", () => {
        const lines = describeDbCluster({
            nodes: [node("lab-db-ams3-1", healthy, 0), node("lab-db-nyc3-1", cutOff, 3), node("lab-db-sfo3-1", "", 124)],
            arbitrators: [{ host: "lab-dnsfo-witness", region: "sfo3", installed: true, service: "active (running)", active: true, restarts: 0 }],
        });
        const text = lines.join("\n");
        assert.match(text, /^DB NODE +REGION +STATE +CLUSTER +SIZE +READY +COMMITTED +HEALTH$/m);
        assert.match(text, /^lab-db-ams3-1 +ams3 +Synced +Primary +3\/3 +yes +653 +healthy$/m);
        assert.match(text, /^lab-db-nyc3-1 +nyc3 +Initialized +non-Primary +1\/3 +no +700 +not serving$/m);
        assert.match(text, /^ {2}lab-db-nyc3-1: not in the primary component/m);
        assert.match(text, /^lab-db-sfo3-1 +sfo3 +unreachable +- +- +- +- +unreachable$/m);
        assert.match(text, /^ {2}lab-db-sfo3-1: no answer within the timeout$/m);
        assert.match(text, /^arbitrator \(garbd\) on lab-dnsfo-witness \(sfo3\): active \(running\)$/m);
        assert.doesNotMatch(text, /lab-db-ams3-1: /, "a healthy node lists no problems");
    });

    test("a stack without DB nodes prints nothing", () => {
        assert.deepEqual(describeDbCluster({ nodes: [], arbitrators: [] }), []);
    });
});
