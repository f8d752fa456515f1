/**
 * DigitalOcean actions (the asynchronous jobs an API call starts) for
 * reserved IPs: kept in the server's memory, shaped as the public API shows
 * them.
 */

/** Action types the lab implements. */
export type DoActionType = "assign_ip" | "unassign_ip";

/** Status values DigitalOcean uses for actions. */
export type DoActionStatus = "in-progress" | "completed" | "errored";

/** One action. */
export interface DoAction {
  id: number;
  status: DoActionStatus;
  type: DoActionType;
  startedAtMs: number;
  completedAtMs: number | null;
  /** The reserved IP acted on. */
  ip: string;
  region: string;
}

/** How many finished actions are remembered (GET /v2/actions/{id} of older ones is 404). */
const KEEP = 1000;

/** The server's actions, by id. */
export class ActionStore {
  private readonly actions = new Map<number, DoAction>();
  private nextId: number;

  /** `firstId` should differ between server runs (e.g. the start time in seconds) so ids never repeat. */
  constructor(firstId: number) {
    this.nextId = firstId;
  }

  /** Starts an action (status in-progress). */
  create(type: DoActionType, ip: string, region: string, nowMs: number): DoAction {
    const action: DoAction = { id: this.nextId++, status: "in-progress", type, startedAtMs: nowMs, completedAtMs: null, ip, region };
    this.actions.set(action.id, action);
    if (this.actions.size > KEEP) {
      const oldest = [...this.actions.values()].find((a) => a.status !== "in-progress");
      if (oldest) this.actions.delete(oldest.id);
    }
    return action;
  }

  get(id: number): DoAction | undefined {
    return this.actions.get(id);
  }

  /** The in-progress action on a reserved IP, if any (DigitalOcean then refuses new ones). */
  pendingFor(ip: string): DoAction | undefined {
    return [...this.actions.values()].find((a) => a.ip === ip && a.status === "in-progress");
  }

  /** Marks an action completed or errored. */
  finish(id: number, ok: boolean, nowMs: number): void {
    const a = this.actions.get(id);
    if (!a) return;
    a.status = ok ? "completed" : "errored";
    a.completedAtMs = nowMs;
  }
}

/** An IPv4 as the unsigned 32-bit integer DigitalOcean uses as a reserved IP action's resource_id. */
export function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** Seconds-precision ISO time, as the API prints it ("2024-01-01T10:00:00Z"). */
export function apiTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The region object DigitalOcean embeds in actions and reserved IPs. */
export function regionJson(slug: string): Record<string, unknown> {
  return { slug, name: slug, available: true, features: [], sizes: [] };
}

/** The `action` object of the API. */
export function actionJson(a: DoAction): Record<string, unknown> {
  return {
    id: a.id,
    status: a.status,
    type: a.type,
    started_at: apiTime(a.startedAtMs),
    completed_at: a.completedAtMs === null ? null : apiTime(a.completedAtMs),
    resource_id: ipv4ToInt(a.ip),
    resource_type: "reserved_ip",
    region: regionJson(a.region),
    region_slug: a.region,
  };
}
