/** A file the wiring step installs on a droplet. May hold secrets: it travels on the SSH command's stdin. */
export interface WiredFile {
    readonly path: string;
    readonly content: string;
    /** Octal mode, e.g. "0640". */
    readonly mode: string;
    /** "user:group"; the group must exist on the droplet (cloud-init installed the packages). */
    readonly owner?: string;
}

/** A shell command the wiring step runs after installing the files. */
export interface WiredCommand {
    readonly run: string;
    /** Run only when one of these files changed; omitted: run every time (so it must be idempotent). */
    readonly when?: readonly string[];
}

export interface WiringScriptSettings {
    /** Shown in errors so the operator knows which droplet failed. */
    readonly description: string;
    readonly files: readonly WiredFile[];
    readonly commands: readonly WiredCommand[];
}

const MODE = /^0?[0-7]{3,4}$/;
const OWNER = /^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/;

/** One shell word, whatever the text holds (single-quoted; a quote inside becomes '\''). */
export function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Wraps base64 at 76 columns so no line of the script is huge. */
function base64Lines(content: string): string {
    return (Buffer.from(content, "utf8").toString("base64").match(/.{1,76}/g) ?? []).join("\n");
}

/**
 * Renders the bash script a wiring command feeds to `bash -s` on a droplet: wait for cloud-init,
 * install each file atomically only when its content or mode changed, then run the commands whose
 * files changed. Re-running it with the same input changes nothing, which is what makes the
 * wiring safe to apply on every `pulumi up`.
 */
export function renderWiringScript(s: WiringScriptSettings): string {
    for (const f of s.files) {
        if (!f.path.startsWith("/") || /[\s'"$`\\]/.test(f.path)) throw new Error(`wiring file path ${JSON.stringify(f.path)} must be absolute and free of spaces and quotes`);
        if (!MODE.test(f.mode)) throw new Error(`wiring file ${f.path}: mode ${JSON.stringify(f.mode)} must be octal such as "0640"`);
        if (f.owner !== undefined && !OWNER.test(f.owner)) throw new Error(`wiring file ${f.path}: owner ${JSON.stringify(f.owner)} must be "user:group"`);
    }
    const paths = new Set(s.files.map((f) => f.path));
    if (paths.size !== s.files.length) throw new Error(`wiring for ${s.description} installs the same path twice`);
    for (const c of s.commands) {
        for (const p of c.when ?? []) if (!paths.has(p)) throw new Error(`wiring command ${JSON.stringify(c.run)} waits on ${p}, which this wiring does not install`);
    }
    const lines = [
        "#!/bin/bash",
        "set -euo pipefail",
        "umask 077",
        `drr_what=${shellQuote(s.description)}`,
        // Wiring before first boot finished would race cloud-init's package installs.
        'if ! cloud-init status --wait >/dev/null 2>&1; then',
        '  echo "dns-rr-ha: cloud-init did not finish cleanly on $(hostname) ($drr_what):" >&2',
        "  cloud-init status --long >&2 || true",
        "  tail -n 30 /var/log/cloud-init-output.log >&2 || true",
        "  exit 1",
        "fi",
        'drr_changed=" "',
        "drr_put() {",
        '  local path=$1 mode=$2 owner=$3 tmp',
        '  install -d -m 0755 "$(dirname "$path")"',
        '  tmp=$(mktemp "$path.XXXXXX")',
        '  base64 -d >"$tmp"',
        '  chmod "$mode" "$tmp"',
        '  chown "$owner" "$tmp"',
        '  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a:%U:%G "$path")" = "$(stat -c %a:%U:%G "$tmp")" ]; then',
        '    rm -f "$tmp"',
        "  else",
        '    mv -f "$tmp" "$path"',
        '    drr_changed+="$path "',
        "  fi",
        "}",
        "drr_was_changed() {",
        "  local p",
        '  for p in "$@"; do',
        '    case "$drr_changed" in *" $p "*) return 0 ;; esac',
        "  done",
        "  return 1",
        "}",
    ];
    s.files.forEach((f, i) => {
        const tag = `DRR_FILE_${i}`;
        lines.push(`drr_put ${f.path} ${f.mode} ${f.owner ?? "root:root"} <<'${tag}'`, base64Lines(f.content), tag);
    });
    for (const c of s.commands) {
        lines.push(c.when ? `if drr_was_changed ${c.when.join(" ")}; then\n  ${c.run}\nfi` : c.run);
    }
    lines.push('echo "dns-rr-ha: wired $drr_what; changed:${drr_changed}"', "");
    return lines.join("\n");
}
