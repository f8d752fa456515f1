import { execFile } from "node:child_process";

/** Result of a finished command. */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Options for {@link run}. */
export interface RunOptions {
  /** Text written to the command's stdin. */
  input?: string;
  /** Resolve instead of rejecting when the exit code is non-zero. */
  allowFail?: boolean;
  /** Kill the command after this many milliseconds (default 60 s). */
  timeoutMs?: number;
}

/** A command that exited non-zero; carries its output for the caller's message. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    super(
      `command failed (exit ${result.code}): ${argv.join(" ")}\n${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.name = "CommandError";
  }
}

/**
 * Runs a command without a shell (arguments are never re-parsed), collecting
 * its output. Rejects with {@link CommandError} on a non-zero exit unless
 * `allowFail` is set.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000 },
      (err, stdout, stderr) => {
        // execFile reports a non-zero exit as an error whose `code` is the number.
        const rawCode = (err as (Error & { code?: unknown }) | null)?.code;
        if (err && typeof rawCode !== "number") {
          reject(new Error(`cannot run ${cmd}: ${err.message}`));
          return;
        }
        const result: RunResult = { stdout, stderr, code: typeof rawCode === "number" ? rawCode : 0 };
        if (result.code !== 0 && !opts.allowFail) reject(new CommandError([cmd, ...args], result));
        else resolve(result);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Runs a command inside network namespace `netns` via `ip netns exec`. */
export function runInNetns(
  netns: string,
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return run("ip", ["netns", "exec", netns, cmd, ...args], opts);
}

/** Runs many `ip` commands in one process (`ip -batch -`), optionally in a netns. */
export async function ipBatch(netns: string | undefined, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const args = netns ? ["-n", netns, "-batch", "-"] : ["-batch", "-"];
  await run("ip", args, { input: lines.join("\n") + "\n" });
}
