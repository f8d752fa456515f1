import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Runs a real tool on a text written to a temp file ({} in args is the file's path). */
export function checkWith(tool: string, args: readonly string[], text: string, fileName = "input"): { status: number | null; output: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-"));
    try {
        const file = path.join(dir, fileName);
        fs.writeFileSync(file, text);
        const r = spawnSync(tool, args.map((a) => a.replace("{}", file)), { encoding: "utf8", timeout: 60_000 });
        if (r.error) throw r.error;
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
