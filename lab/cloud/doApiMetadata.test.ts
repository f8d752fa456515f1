import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { HostRecord } from "../net/fabricState";
import type { HttpRequest } from "./doApiHttp";
import { MetadataContext, handleMetadataRequest } from "./doApiMetadata";

const host: HostRecord = {
  name: "lb-1",
  netns: "dat-h-lb-1",
  publicIp: "198.51.100.11",
  publicGateway: "198.51.100.1",
  region: "nyc3",
  vpc: { name: "v", bridge: "v-x", privateIp: "10.110.0.11", prefixLen: 20, gateway: "10.110.0.1" },
  ports: { pub: "p-x", vpc: "q-x" },
};

const ctx: MetadataContext = {
  state: {
    version: 1,
    prefix: "dat",
    token: "t",
    apiAddress: "192.0.2.2",
    rateLimitPerMinute: 250,
    droplets: [
      { id: 11, name: "lb-1", publicIpv4: "198.51.100.11", privateIpv4: "10.110.0.11", region: "nyc3", tags: ["lb"] },
      { id: 12, name: "lb-2", publicIpv4: "198.51.100.12", privateIpv4: "10.110.0.12", region: "nyc3" },
    ],
    reservedIps: [{ ip: "203.0.113.10", region: "nyc3" }],
  },
  holders: { "203.0.113.10": "lb-1" },
  hosts: { "lb-1": host },
  nameservers: ["192.0.2.53"],
};

const get = (path: string, fromIp = "198.51.100.11", method = "GET"): { status: number; body: string } => {
  const req: HttpRequest = { method, path, headers: {}, body: "", fromIp };
  return handleMetadataRequest(req, ctx);
};

describe("metadata service", () => {
  test("answers the caller about itself, identified by public or private source address", () => {
    assert.equal(get("/metadata/v1/id").body, "11");
    assert.equal(get("/metadata/v1/id", "198.51.100.12").body, "12");
    assert.equal(get("/metadata/v1/id", "::ffff:10.110.0.12").body, "12");
    assert.equal(get("/metadata/v1/hostname").body, "lb-1");
    assert.equal(get("/metadata/v1/region").body, "nyc3");
    assert.equal(get("/metadata/v1/tags/").body, "lb\n");
    assert.equal(get("/metadata/v1/interfaces/private/0/ipv4/netmask").body, "255.255.240.0");
    assert.equal(get("/metadata/v1/interfaces/public/0/ipv4/gateway").body, "198.51.100.1");
    assert.equal(get("/metadata/v1/reserved_ip/ipv4/active").body, "true");
    assert.equal(get("/metadata/v1/reserved_ip/ipv4/ip_address").body, "203.0.113.10");
    assert.equal(get("/metadata/v1/reserved_ip/ipv4/active", "198.51.100.12").body, "false");
    assert.match(get("/metadata/v1/").body, /^id\nhostname\n/);
  });

  test("v1.json has DigitalOcean's documented shape", () => {
    const doc = JSON.parse(get("/metadata/v1.json").body) as Record<string, unknown>;
    assert.equal(doc.droplet_id, 11);
    assert.equal(doc.hostname, "lb-1");
    assert.equal(doc.region, "nyc3");
    assert.deepEqual(doc.interfaces, {
      public: [{ ipv4: { ip_address: "198.51.100.11", netmask: "255.255.255.255", gateway: "198.51.100.1" }, type: "public", mac: (doc.interfaces as { public: { mac: string }[] }).public[0]?.mac }],
      private: [{ ipv4: { ip_address: "10.110.0.11", netmask: "255.255.240.0", gateway: "10.110.0.1" }, type: "private", mac: (doc.interfaces as { private: { mac: string }[] }).private[0]?.mac }],
    });
    assert.deepEqual(doc.reserved_ip, { ipv4: { active: true, ip_address: "203.0.113.10" } });
    assert.deepEqual(doc.dns, { nameservers: ["192.0.2.53"] });
    // Without a fabric record (not booted yet) only the addresses are known.
    const bare = JSON.parse(get("/metadata/v1.json", "198.51.100.12").body) as { interfaces: { public: { ipv4: Record<string, string> }[] } };
    assert.deepEqual(bare.interfaces.public[0]?.ipv4, { ip_address: "198.51.100.12" });
  });

  test("404 for strangers and unknown paths, 405 for writes", () => {
    assert.equal(get("/metadata/v1/id", "192.0.2.10").status, 404);
    assert.equal(get("/metadata/v1/nope").status, 404);
    assert.equal(get("/metadata/v2/id").status, 404);
    assert.equal(get("/v2/reserved_ips").status, 404);
    assert.equal(get("/metadata/v1/id", "198.51.100.11", "POST").status, 405);
  });
});
