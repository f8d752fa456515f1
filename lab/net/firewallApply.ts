import path from "node:path";
import { run, runInNetns } from "./exec";
import { CLOUDFW_TABLE } from "./firewallRender";

/** Accepts a netns name or its /run/netns path. */
function netnsName(netns: string): string {
  return netns.includes("/") ? path.basename(netns) : netns;
}

/**
 * Loads a script from renderFirewallNft into a droplet's netns. The script
 * replaces the table in one nft transaction, so there is never a moment
 * without rules (or with both old and new ones).
 */
export async function applyFirewall(netns: string, text: string): Promise<void> {
  await runInNetns(netnsName(netns), "nft", ["-f", "-"], { input: text });
}

/** Removes the emulated cloud firewall from a netns; missing table is fine. */
export async function removeFirewall(netns: string): Promise<void> {
  await run("ip", ["netns", "exec", netnsName(netns), "nft", "delete", "table", "inet", CLOUDFW_TABLE], { allowFail: true });
}

/** Current ruleset of the table in a netns ("" if absent); for `lab status` and tests. */
export async function showFirewall(netns: string): Promise<string> {
  const r = await runInNetns(netnsName(netns), "nft", ["list", "table", "inet", CLOUDFW_TABLE], { allowFail: true });
  return r.code === 0 ? r.stdout : "";
}
