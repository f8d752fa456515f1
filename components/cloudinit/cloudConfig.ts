import { stringify } from "yaml";

/** A file cloud-init writes at first boot. Never put a secret here: user-data is readable by every process on the droplet. */
export interface BootFile {
    readonly path: string;
    readonly content: string;
    /** Octal mode, e.g. "0755". */
    readonly permissions: string;
    readonly owner?: string;
}

/** What one droplet role needs at first boot, before any peer exists. */
export interface CloudConfigSettings {
    /** Debian packages to install (a baked snapshot makes this a no-op). */
    readonly packages: readonly string[];
    readonly files: readonly BootFile[];
    /** Commands run once at the end of first boot, each an argv list (no shell unless you ask for one). */
    readonly runcmd: readonly (readonly string[])[];
    /** Label for /etc/dns-rr-ha/role, read by scripts and operators. */
    readonly role: string;
    readonly region: string;
}

/** Packages every droplet gets: the wiring step needs curl and jq, and security fixes install themselves. */
export const BASE_PACKAGES: readonly string[] = ["curl", "jq", "ca-certificates", "unattended-upgrades"];

/**
 * Renders `#cloud-config` user-data. Peers, addresses of other droplets and secrets are
 * deliberately absent: user-data is fixed at creation, and changing it replaces the droplet.
 */
export function renderCloudConfig(s: CloudConfigSettings): string {
    const packages = [...new Set([...BASE_PACKAGES, ...s.packages])];
    const doc = {
        ssh_pwauth: false,
        disable_root: false,
        package_update: true,
        packages,
        write_files: [
            { path: "/etc/dns-rr-ha/role", content: `ROLE=${s.role}\nREGION=${s.region}\n`, permissions: "0644", owner: "root:root" },
            {
                path: "/etc/apt/apt.conf.d/52dns-rr-ha-unattended",
                content: 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
                permissions: "0644",
                owner: "root:root",
            },
            ...s.files.map((f) => ({ path: f.path, content: f.content, permissions: f.permissions, owner: f.owner ?? "root:root" })),
        ],
        // cloud-init's schema refuses an empty runcmd list.
        ...(s.runcmd.length > 0 ? { runcmd: s.runcmd.map((argv) => [...argv]) } : {}),
    };
    return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
