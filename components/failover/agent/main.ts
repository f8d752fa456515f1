/**
 * The DNS failover agent's process (bundled into one file by the program and run by systemd on
 * every load balancer and the witness):
 *
 *   node dns-failover-agent.js [SETTINGS_FILE]
 *
 * Logs one JSON object per line to stdout (the journal): every verdict change, every decision with
 * its vote count, every API error with the backoff chosen.
 */
import fs from "node:fs";
import { DnsFailoverAgent } from "./agent";
import { DoDnsApi, RequestBudget } from "./doDnsApi";
import { httpRequest } from "./httpClient";
import { probe } from "./probe";
import { AGENT_PATHS, parseAgentSettings } from "./settings";
import { checkVoteKey, fetchView, serveViews } from "./viewServer";

function log(event: Record<string, unknown>): void {
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...event }) + "\n");
}

/** A secret file's trimmed text; undefined when it is missing or empty. */
function readSecretFile(file: string): string | undefined {
    try {
        const text = fs.readFileSync(file, "utf8").trim();
        return text === "" ? undefined : text;
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
    }
}

async function main(): Promise<void> {
    const file = process.argv[2] ?? AGENT_PATHS.settings;
    const settings = parseAgentSettings(fs.readFileSync(file, "utf8"), file);
    const token = readSecretFile(settings.tokenFile);
    // Without the key the agent could neither be heard nor hear: refuse to start, say where it looked.
    const voteKeyText = readSecretFile(settings.voteKeyFile);
    if (voteKeyText === undefined) throw new Error(`no vote key in ${settings.voteKeyFile}: the program's wiring writes it; re-run pulumi up`);
    const voteKey = checkVoteKey(Buffer.from(voteKeyText, "utf8"), settings.voteKeyFile);
    const api = token === undefined ? undefined : new DoDnsApi({
        apiUrl: settings.apiUrl,
        token,
        domain: settings.domain,
        transport: (call) => httpRequest(call, 5_000),
        budget: new RequestBudget(settings.apiBudgetPerMinute),
        now: Date.now,
    });
    const agent = new DnsFailoverAgent(settings, { now: Date.now, probe, fetchView: (url, ms) => fetchView(url, ms, voteKey), api, log });
    await serveViews(settings.listen.host, settings.listen.port, voteKey, () => agent.view(), () => agent.status());
    log({
        event: "started",
        observer: settings.observer,
        peers: settings.peers.map((p) => p.id),
        entryPoints: settings.entryPoints.map((e) => `${e.region}=${e.ipv4}`),
        mode: api ? "acting on the DigitalOcean API" : `observe only: no token in ${settings.tokenFile}`,
    });
    for (;;) {
        const started = Date.now();
        await agent.tick();
        await new Promise((r) => setTimeout(r, Math.max(0, settings.intervalMs - (Date.now() - started))));
    }
}

main().catch((e: unknown) => {
    log({ event: "fatal", error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
});
