import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { allocatePrivateIp, allocatePublicIp } from "./allocate";
import { destroyAll } from "./destroyAll";
import { Fabric, createFabric, ensureVpc } from "./fabric";
import { applyFirewall, removeFirewall, showFirewall } from "./firewallApply";
import { renderFirewallNft } from "./firewallRender";
import { DoFirewall, FirewallDroplet, indexDropletsByTag } from "./firewallTypes";
import { createHostNetns, hostNetnsPath } from "./hostNetns";
import { NameServer, leftovers, ping, startNameServer, tcpProbe, testPrefix } from "./testSupport";

const prefix = testPrefix();
const ns = (h: string): string => `${prefix}-h-${h}`;

describe("cloud firewall in droplet netns (behaviour)", { timeout: 60_000 }, () => {
  let fabric: Fabric;
  const droplets: Record<string, FirewallDroplet & { pub: string; priv: string }> = {};
  const servers: NameServer[] = [];

  before(async () => {
    fabric = await createFabric({ prefix, interRegionDelayMs: 0 });
    const vpc = await ensureVpc(fabric, { name: "vpc-fw", region: "fra1", ipRange: "10.140.0.0/20" });
    const tags: Record<string, string[]> = { srv: ["web"], ca: ["app"], cb: [] };
    for (const name of Object.keys(tags)) {
      const pub = await allocatePublicIp(fabric, name);
      const priv = await allocatePrivateIp(fabric, vpc.name, name);
      await createHostNetns({ fabric, name, publicIp: pub, vpc: { bridge: vpc.bridge, privateIp: priv, prefixLen: vpc.prefixLen } });
      droplets[name] = { name, tags: tags[name] ?? [], addresses: [pub, priv], pub, priv };
    }
    servers.push(await startNameServer(ns("srv"), "srv", [22, 5000]));
    servers.push(await startNameServer(ns("ca"), "ca", [22]));
  });

  after(async () => {
    for (const s of servers) await s.stop();
    await destroyAll(prefix);
    assert.deepEqual(await leftovers(prefix, servers.map((s) => s.pid)), []);
  });

  const d = (n: string) => droplets[n] as FirewallDroplet & { pub: string; priv: string };
  const render = (firewalls: DoFirewall[]): string =>
    renderFirewallNft({
      droplet: d("srv"),
      firewalls,
      dropletsByTag: indexDropletsByTag(Object.values(droplets)),
      reservedIpsOfDroplet: [],
    });
  const probe = async (from: string, to: string, port: number): Promise<string> => (await tcpProbe(ns(from), to, port, 800)).what;

  const webFw = (): DoFirewall => ({
    name: "fw-web",
    tags: ["web"],
    inboundRules: [
      { protocol: "tcp", portRange: "80", sourceAddresses: ["0.0.0.0/0", "::/0"] },
      { protocol: "tcp", portRange: "22", sourceAddresses: [`${d("ca").pub}/32`] },
    ],
    // Only HTTP out: lets the test see both an allowed and a denied outbound connect.
    outboundRules: [{ protocol: "tcp", portRange: "80", destinationAddresses: ["0.0.0.0/0"] }],
  });
  const internalFw: DoFirewall = {
    name: "fw-internal",
    tags: ["web"],
    inboundRules: [{ protocol: "tcp", portRange: "5000", sourceTags: ["app"] }],
  };

  test("without a firewall everything is reachable", async () => {
    assert.equal(await probe("cb", d("srv").pub, 22), "open");
    assert.equal((await ping(ns("cb"), d("srv").priv, 1)).received, 1);
  });

  test("80 from anywhere, 22 only from one CIDR, 5000 only from a tag; denied = silent drop", async () => {
    await applyFirewall(hostNetnsPath(fabric, "srv"), render([webFw(), internalFw]));
    const srv = d("srv");
    assert.equal(await probe("ca", srv.pub, 80), "open");
    assert.equal(await probe("cb", srv.pub, 80), "open");
    assert.equal(await probe("ca", srv.pub, 22), "open", "allowed CIDR (its public /32)");
    assert.equal(await probe("cb", srv.pub, 22), "timeout", "other source: dropped, not refused");
    assert.equal(await probe("ca", srv.priv, 22), "timeout", "same droplet via its private address is not that CIDR");
    assert.equal(await probe("ca", srv.priv, 5000), "open", "tag resolves to private address");
    assert.equal(await probe("ca", srv.pub, 5000), "open", "tag resolves to public address");
    assert.equal(await probe("cb", srv.priv, 5000), "timeout");
    assert.equal(await probe("cb", srv.pub, 81), "timeout", "closed port: no RST leaks either");
    assert.equal((await ping(ns("ca"), srv.priv, 1)).received, 0, "no ICMP rule, no ping");
  });

  test("outbound: only what the rules allow; replies to allowed inbound still flow (stateful)", async () => {
    assert.equal(await probe("srv", d("ca").pub, 80), "open");
    assert.equal(await probe("srv", d("ca").pub, 22), "timeout");
    // Inbound 22 from ca works although outbound tcp/22 is not allowed: the replies are established traffic.
    assert.equal(await probe("ca", d("srv").pub, 22), "open");
  });

  test("re-applying replaces the rules atomically; removal opens the droplet", async () => {
    const open22 = webFw();
    open22.inboundRules?.push({ protocol: "tcp", portRange: "22", sourceAddresses: ["0.0.0.0/0"] });
    await applyFirewall(ns("srv"), render([open22]));
    assert.equal(await probe("cb", d("srv").pub, 22), "open");
    assert.equal(await probe("ca", d("srv").priv, 5000), "timeout", "fw-internal is gone");
    assert.equal((await showFirewall(ns("srv"))).match(/table inet drr_cloudfw/g)?.length, 1);
    await removeFirewall(ns("srv"));
    assert.equal(await showFirewall(ns("srv")), "");
    assert.equal(await probe("cb", d("srv").pub, 5000), "open");
    await removeFirewall(ns("srv"));
  });
});
