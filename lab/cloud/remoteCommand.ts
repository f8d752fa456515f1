import { spawn } from "child_process";

export interface SshTarget {
    /** Network namespace the connection starts from (the lab's admin host, inside the admin CIDR). */
    readonly fromNetns: string;
    readonly host: string;
    readonly user: string;
    /** Path of the private key file (0600). */
    readonly keyFile: string;
}

export interface SshResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

function once(t: SshTarget, command: string, stdin: string | undefined, timeoutMs: number): Promise<SshResult> {
    return new Promise((resolve, reject) => {
        const child = spawn("ip", ["netns", "exec", t.fromNetns, "ssh",
            "-i", t.keyFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            // Lab droplets get fresh host keys on every boot; the lab trusts the first key it sees.
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=5", "-o", "ServerAliveInterval=10",
            `${t.user}@${t.host}`, command], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
        child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", (e) => { clearTimeout(timer); reject(e); });
        child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? 255, stdout, stderr }); });
        child.stdin.on("error", () => undefined);
        child.stdin.end(stdin ?? "");
    });
}

/**
 * Runs a command over real SSH as `command:remote:Command` would: retries while the connection
 * cannot be made (sshd still starting: ssh exits 255 with a connect error), then returns the
 * command's own result.
 */
export async function runOverSsh(t: SshTarget, command: string, stdin: string | undefined, opts: { dialTimeoutMs?: number; commandTimeoutMs?: number } = {}): Promise<SshResult> {
    const deadline = Date.now() + (opts.dialTimeoutMs ?? 120_000);
    for (;;) {
        const r = await once(t, command, stdin, opts.commandTimeoutMs ?? 600_000);
        const dialFailed = r.code === 255 && /Connection refused|Connection timed out|No route to host|Connection reset|kex_exchange_identification|Connection closed/i.test(r.stderr);
        if (!dialFailed || Date.now() > deadline) return r;
        await new Promise((res) => setTimeout(res, 500));
    }
}
