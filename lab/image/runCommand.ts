import { spawn } from "node:child_process";

/** Result of {@link runCommand}. `code` is null when the process died of a signal. */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Written to stdin, which is then closed (stdin is /dev/null when absent). */
  input?: string;
  /** Kill the whole process group with SIGKILL after this long. */
  timeoutMs?: number;
  /** Receives every complete output line (stdout and stderr) as it arrives. */
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs a command without a shell and collects its output.
 *
 * The child gets its own process group so a timeout can kill everything it
 * spawned (e.g. the processes nsenter starts inside a container), by group id
 * of the child we started — never by name.
 */
export function runCommand(cmd: string, args: readonly string[], opts: RunCommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      detached: true,
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const pending = { out: "", err: "" };
    const feed = (which: "out" | "err", chunk: string): void => {
      if (!opts.onLine) return;
      const lines = (pending[which] + chunk).split("\n");
      pending[which] = lines.pop() ?? "";
      for (const line of lines) opts.onLine(line);
    };
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      feed("out", d);
    });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      feed("err", d);
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid!, "SIGKILL");
            } catch {
              // group already gone
            }
          }, opts.timeoutMs);
    child.once("error", (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (opts.onLine) {
        if (pending.out) opts.onLine(pending.out);
        if (pending.err) opts.onLine(pending.err);
      }
      resolve({ code, signal, stdout, stderr, timedOut });
    };
    child.once("close", finish);
    // A daemon the command started in the background may keep our pipes open
    // forever; once the command itself has exited, give the pipes a moment to
    // drain, then stop reading instead of waiting for "close".
    child.once("exit", (code, signal) => {
      setTimeout(() => {
        if (settled) return;
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish(code, signal);
      }, 500);
    });
    if (opts.input !== undefined) {
      child.stdin!.on("error", () => {
        // the command may exit without reading its input (EPIPE): its exit code tells the story
      });
      child.stdin!.end(opts.input);
    }
  });
}

/** Like {@link runCommand} but throws with the output tail when the exit code is not 0. */
export async function runChecked(cmd: string, args: readonly string[], opts: RunCommandOptions = {}): Promise<CommandResult> {
  const res = await runCommand(cmd, args, opts);
  if (res.code !== 0) {
    const tail = (res.stderr || res.stdout).trim().split("\n").slice(-15).join("\n");
    const why = res.timedOut ? `timed out after ${opts.timeoutMs} ms` : `exit ${res.code ?? res.signal}`;
    throw new Error(`${cmd} ${args.join(" ")} failed (${why}):\n${tail}`);
  }
  return res;
}
