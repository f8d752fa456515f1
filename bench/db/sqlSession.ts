/**
 * A persistent client session for the bench's workers, without a MySQL library: one long-lived
 * `mariadb` client process (over the server's unix socket), fed statements on stdin, each batch
 * followed by `SELECT '<marker>'`, whose echo on stdout is the acknowledgement. stderr is merged
 * into stdout by the shell that execs the client, so an error is read in order with the rest.
 * Without --force the client stops at the first error: its `ERROR <code>` line is the batch's
 * answer, the process exits (the server rolls the transaction back) and the next batch starts a
 * new one. A batch not answered in time kills the client (SIGKILL, by PID): its outcome is unknown.
 */
import { spawn, type ChildProcess } from "child_process";
import { clientArgs } from "../../components/db/testing/localMariadb";

/** What a batch got: its output lines (without the marker), or the error. */
export type BatchResult = { ok: true; lines: string[] } | { ok: false; error: string; text: string };

/** The error code of a `mariadb` client's output ("1213", "1047", ...), or undefined. */
export function errorCode(text: string): string | undefined {
    return /ERROR (\d+)/.exec(text)?.[1];
}

/** A session on one server. */
export class SqlSession {
    private child: ChildProcess | undefined;
    private out = "";
    private seq = 0;
    private waiting: { marker: string; resolve: (r: BatchResult) => void; timer: NodeJS.Timeout } | undefined;
    /** Client processes started (one more after each error). */
    spawned = 0;

    constructor(private readonly socket: string, private readonly database: string) {}

    private start(): ChildProcess {
        const args = [...clientArgs(this.socket), `--database=${this.database}`, "--batch", "--skip-column-names", "--unbuffered"];
        // exec: the PID is the client's own, so killing it by PID kills the client.
        const child = spawn("sh", ["-c", 'exec mariadb "$@" 2>&1', "sh", ...args], { stdio: ["pipe", "pipe", "ignore"] });
        this.spawned += 1;
        this.out = "";
        child.stdin!.on("error", () => undefined);
        child.stdout!.on("data", (d: Buffer) => {
            this.out += d.toString();
            const w = this.waiting;
            if (!w) return;
            // Complete lines only: the last piece may be the start of a longer line.
            const lines = this.out.split("\n");
            const at = lines.slice(0, -1).indexOf(w.marker);
            if (at < 0) return;
            this.out = lines.slice(at + 1).join("\n");
            this.finish({ ok: true, lines: lines.slice(0, at) });
        });
        // "close", not "exit": by then everything the client printed has been read.
        child.on("close", () => {
            if (this.child === child) this.child = undefined;
            const w = this.waiting;
            if (!w) return;
            const text = this.out.trim();
            this.finish({ ok: false, error: errorCode(text) ?? "exit", text });
        });
        return child;
    }

    private finish(r: BatchResult): void {
        const w = this.waiting;
        if (!w) return;
        this.waiting = undefined;
        clearTimeout(w.timer);
        w.resolve(r);
    }

    /** Runs `statements` (each ending with `;`), then the marker; resolves with the answer. */
    run(statements: string, timeoutMs: number): Promise<BatchResult> {
        if (this.waiting) throw new Error("SqlSession.run: a batch is already running");
        const child = this.child ?? (this.child = this.start());
        const marker = `mk-${++this.seq}`;
        return new Promise((resolve) => {
            const timer = setTimeout(() => {
                this.finish({ ok: false, error: "timeout", text: this.out });
                this.kill();
            }, timeoutMs);
            this.waiting = { marker, resolve, timer };
            child.stdin!.write(`${statements}\nSELECT '${marker}';\n`);
        });
    }

    private kill(): void {
        const c = this.child;
        this.child = undefined;
        if (c && c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
            try {
                process.kill(c.pid, "SIGKILL");
            } catch {
                // Already gone.
            }
        }
    }

    /** Ends the client (stdin closed, SIGKILL after 2 s); resolves once it exited. */
    async close(): Promise<void> {
        const c = this.child;
        this.child = undefined;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
        c.stdin!.end();
        const timer = setTimeout(() => {
            if (c.pid !== undefined) {
                try {
                    process.kill(c.pid, "SIGKILL");
                } catch {
                    // Already gone.
                }
            }
        }, 2000);
        await gone;
        clearTimeout(timer);
    }
}
