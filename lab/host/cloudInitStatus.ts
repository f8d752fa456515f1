/** Outcome of cloud-init on a lab host. */
export interface CloudInitResult {
  /** cloud-init's status ("done", "error", "running", …) or "timeout" when we stopped waiting. */
  status: string;
  /** Errors cloud-init reported (one per failed module/stage), plus ours on timeout. */
  errors: string[];
  /** Tail of /var/log/cloud-init-output.log when something went wrong, else "". */
  outputTail: string;
}

/** True when cloud-init finished and reported no error. */
export function cloudInitSucceeded(r: Pick<CloudInitResult, "status" | "errors">): boolean {
  return r.status === "done" && r.errors.length === 0;
}

/**
 * Parses `cloud-init status --format json` (cloud-init 22.4). JSON rather than
 * `--long` because the tabular form folds all errors into one `detail` blob.
 */
export function parseCloudInitStatusJson(stdout: string): { status: string; errors: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error(`cloud-init status printed no JSON: ${stdout.slice(0, 200)}`);
  }
  if (typeof doc !== "object" || doc === null) throw new Error("cloud-init status: JSON is not an object");
  const o = doc as Record<string, unknown>;
  const status = typeof o["status"] === "string" ? o["status"] : "unknown";
  const errors = Array.isArray(o["errors"]) ? o["errors"].map((e) => String(e)) : [];
  return { status, errors };
}

/** One readable block for logs and exceptions. */
export function formatCloudInitFailure(host: string, r: CloudInitResult): string {
  return [
    `cloud-init on ${host}: status ${r.status}`,
    ...r.errors.map((e) => `  error: ${e}`),
    ...(r.outputTail ? ["  --- tail of /var/log/cloud-init-output.log ---", ...r.outputTail.split("\n").map((l) => `  ${l}`)] : []),
  ].join("\n");
}
