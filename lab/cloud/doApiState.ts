/**
 * The file the lab and the DO API server process share: the lab writes the
 * account's catalog (token, droplets, reserved IPs, where the DNS records
 * live), the server only reads it. Who holds a reserved IP is NOT in here: that is the fabric's state,
 * which the server reads live (so moves made by the lab, the CLI or the API
 * itself are all seen the same way).
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

/** A droplet as the API and the metadata service describe it. */
export interface DoApiDroplet {
  /** Numeric droplet id (what `/metadata/v1/id` answers). */
  id: number;
  /** Droplet name; also its host name in the lab fabric. */
  name: string;
  publicIpv4: string;
  privateIpv4: string;
  /** Region slug, e.g. nyc3. */
  region: string;
  tags?: string[];
}

/** A reserved IP of the account (its holder comes from the fabric). */
export interface DoApiReservedIp {
  ip: string;
  region: string;
}

const dropletSchema = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  publicIpv4: z.ipv4(),
  privateIpv4: z.ipv4(),
  region: z.string().min(1),
  tags: z.array(z.string()).optional(),
});

const stateSchema = z.object({
  version: z.literal(1),
  prefix: z.string().min(1),
  token: z.string().min(1),
  apiAddress: z.ipv4(),
  rateLimitPerMinute: z.number().int().positive(),
  droplets: z.array(dropletSchema),
  reservedIps: z.array(z.object({ ip: z.ipv4(), region: z.string().min(1) })),
  /**
   * State dir of the lab's DNS server (lab/dns): its dns.json is the one
   * store of the account's domains and records, changed under its lock by the
   * lab and by the API. Absent: the account has no domains (404).
   */
  dnsStateDir: z.string().min(1).optional(),
});

/** Contents of the shared state file. */
export type DoApiState = z.infer<typeof stateSchema>;

/** Files of one DO API instance inside its state directory. */
export interface DoApiFiles {
  state: string;
  pid: string;
  /** The server's stdout/stderr: one human-readable line per request. */
  log: string;
  /** One JSON object per request ({@link DoApiRequestRecord}). */
  requests: string;
}

/** Where an instance keeps its files. */
export function doApiFiles(stateDir: string): DoApiFiles {
  return {
    state: path.join(stateDir, "doapi.json"),
    pid: path.join(stateDir, "doapi.pid"),
    log: path.join(stateDir, "doapi.log"),
    requests: path.join(stateDir, "doapi-requests.jsonl"),
  };
}

/** One request the server answered. */
export interface DoApiRequestRecord {
  /** ISO time of the answer. */
  time: string;
  /** "api" or "metadata": which listener answered. */
  service: "api" | "metadata";
  method: string;
  path: string;
  status: number;
  fromIp: string;
}

/** Validates and writes the state atomically (0600: it holds the token). */
export function writeDoApiState(file: string, state: DoApiState): void {
  const valid = stateSchema.parse(state);
  const ids = new Set<number>();
  for (const d of valid.droplets) {
    if (ids.has(d.id)) throw new Error(`DO API state: duplicate droplet id ${d.id}`);
    ids.add(d.id);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(valid, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Reads and validates the state; undefined if the file does not exist. */
export function readDoApiState(file: string): DoApiState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const parsed = stateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`invalid DO API state ${file}: ${parsed.error.message}`);
  return parsed.data;
}

/** Reads the request log (skipping a torn last line). */
export function readRequestLog(file: string): DoApiRequestRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").flatMap((line) => {
    if (!line) return [];
    try {
      return [JSON.parse(line) as DoApiRequestRecord];
    } catch {
      return [];
    }
  });
}
