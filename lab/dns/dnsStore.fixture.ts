/**
 * Run by dnsServer.test.ts in processes of their own, as the DO API server
 * and `up` are: changes one zone of a running lab DNS through its stateDir.
 *
 *   dnsStore.fixture.ts STATE_DIR ZONE add NAME IPV4 [COUNT]   (an A record NAME, or COUNT of them
 *                                                             named NAME-0..., one change each)
 *   dnsStore.fixture.ts STATE_DIR ZONE delete ID
 *
 * Prints one line: the ids added, "deleted", "missing" or "no zone".
 */
import { updateZoneRecords } from "./dnsServer";

async function main(): Promise<string> {
  const [stateDir, zone, op, a, b, count] = process.argv.slice(2) as [string, string, string, string, string?, string?];
  if (op === "delete") {
    const id = Number(a);
    const done = await updateZoneRecords(stateDir, zone, (current) =>
      current.some((r) => r.id === id) ? { records: current.filter((r) => r.id !== id), result: "deleted" } : { result: "missing" },
    );
    return done?.result ?? "no zone";
  }
  const ids: number[] = [];
  for (let i = 0; i < Number(count ?? 1); i++) {
    const name = count === undefined ? a : `${a}-${i}`;
    const done = await updateZoneRecords(stateDir, zone, (current, newId) => {
      const id = newId();
      return { records: [...current, { id, type: "A", name, value: b as string, ttl: 30 }], result: id };
    });
    if (!done) return "no zone";
    ids.push(done.result);
  }
  return ids.join(" ");
}

main().then(
  (line) => process.stdout.write(`${line}\n`),
  (e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  },
);
