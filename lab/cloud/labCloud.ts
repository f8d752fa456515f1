import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type * as pulumi from "@pulumi/pulumi";
import { DigitalOceanModel, ModelResource, State, unwrapSecrets } from "./digitalOceanModel";
import { ACME_CERTIFICATE_TYPE, type AcmeIssuer } from "./acmeModel";
import { runOverSsh } from "./remoteCommand";
import {
    Fabric, ensureVpc, peer, createHostNetns, hostNetnsName, assignReservedIp, renderFirewallNft, applyFirewall,
    indexDropletsByTag, DoFirewall, AddressPlan, registerLabProcess,
} from "../net";
import { DnsServer, StoredDnsRecord, startDns } from "../dns";
import { bootHost, RunningHost } from "../host";
import { DoApi, enableMetadataRoute } from "./doApi";

/** A droplet as the lab runs it. */
export interface LabHost {
    readonly name: string;
    readonly id: string;
    readonly role: string;
    readonly region: string;
    readonly tags: readonly string[];
    readonly publicIpv4: string;
    readonly privateIpv4: string;
    readonly netns: string;
    readonly running: RunningHost;
}

export interface LabCloudOptions {
    readonly fabric: Fabric;
    readonly plan: AddressPlan;
    /** Base image rootfs every droplet boots from. */
    readonly rootfs: string;
    /** Directory for hosts' overlays and volumes, DNS state and keys. */
    readonly labDir: string;
    readonly log: (line: string) => void;
    /** Issues the program's ACME certificate (`up`: pebble through DNS-01); default: the model's CA. */
    readonly acmeIssuer?: AcmeIssuer;
}

const ROLES = ["lb", "app", "db", "cache", "witness"];

/**
 * The lab's DigitalOcean: the model computes what DigitalOcean would answer, and this class makes
 * it real on this machine. A droplet boots as a machine container running its user-data through
 * cloud-init, a VPC is a bridge, peering is routing, a reserved IP is a NAT in the fabric, a domain
 * is a zone on BIND, a firewall is nftables in each droplet's namespace, a volume is a directory
 * mounted where the droplet expects it, and a wiring command runs over SSH from the admin host.
 */
export class LabCloud {
    public readonly model: DigitalOceanModel;
    public readonly hosts: LabHost[] = [];
    public dns: DnsServer | undefined;
    private readonly vpcNames = new Map<string, { name: string; bridge: string; prefixLen: number }>();
    /** Domains declared so far; their records live in the DNS server's store (shared with the DO API), not here. */
    private readonly zones = new Set<string>();
    private dnsChain: Promise<void> = Promise.resolve();
    private firewallChain: Promise<void> = Promise.resolve();
    private firewallDirty = false;
    private readonly keyFile: string;
    /** The local metadata service and API; set by `up` once it runs, told of every droplet and reserved IP. */
    public doApi: DoApi | undefined;

    constructor(private readonly opts: LabCloudOptions) {
        this.model = new DigitalOceanModel({ dropletPublic: opts.plan.dropletPublicRange, reserved: opts.plan.reservedRange }, { acmeIssuer: opts.acmeIssuer });
        this.keyFile = path.join(opts.labDir, "keys", "deploy");
    }

    /**
     * State dir of the lab's DNS server: its dns.json is the one store of every domain's records
     * (with DigitalOcean ids), changed under its lock by this class and by the DO API server.
     */
    public get dnsStateDir(): string {
        return path.join(this.opts.labDir, "dns");
    }

    public mocks(): pulumi.runtime.Mocks {
        return {
            newResource: async (args: pulumi.runtime.MockResourceArgs) => {
                // Synchronous where it can be: the record is then the last one, whatever else is in flight.
                const created = args.type === ACME_CERTIFICATE_TYPE
                    ? await this.model.createAsync(args.type, args.name, args.inputs)
                    : this.model.create(args.type, args.name, args.inputs);
                const record = this.model.resources.filter((r) => r.type === args.type && r.name === args.name && r.id === created.id).pop()!;
                await this.realize(record);
                return created;
            },
            call: (args: pulumi.runtime.MockCallArgs) => this.model.call(args.token, unwrapSecrets(args.inputs)),
        };
    }

    private async realize(r: ModelResource): Promise<void> {
        const started = Date.now();
        const took = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
        switch (r.kind) {
            case "Vpc": {
                // Named by creation order, fixed before any await: VPCs are created concurrently.
                const name = `vpc${this.model.ofKind("Vpc").indexOf(r) + 1}`;
                const vpc = await ensureVpc(this.opts.fabric, { name, region: r.inputs.region, ipRange: r.inputs.ipRange });
                this.vpcNames.set(r.id, { name, bridge: vpc.bridge, prefixLen: vpc.prefixLen });
                this.opts.log(`+ VPC ${r.name}: ${r.inputs.region} ${r.inputs.ipRange} (bridge ${vpc.bridge})`);
                return;
            }
            case "VpcPeering": {
                const [a, b] = (r.inputs.vpcIds as string[]).map((id) => this.vpcNames.get(id)!.name);
                await peer(this.opts.fabric, a!, b!);
                this.opts.log(`+ VPC peering ${r.name}: ${a} <-> ${b}`);
                return;
            }
            case "Droplet":
                await this.bootDroplet(r);
                this.opts.log(`+ droplet ${r.name} (${r.inputs.region}, ${r.state.ipv4Address} / ${r.state.ipv4AddressPrivate}) booted in ${took()}`);
                return;
            case "Firewall":
                this.opts.log(`+ firewall ${r.name} on tags ${(r.inputs.tags as string[]).join(", ")}`);
                await this.refreshFirewalls();
                return;
            case "ReservedIpAssignment": {
                const host = this.hostById(String(r.inputs.dropletId));
                await assignReservedIp(this.opts.fabric, r.inputs.ipAddress, host.name);
                this.opts.log(`+ reserved IP ${r.inputs.ipAddress} -> ${host.name}`);
                return;
            }
            case "VolumeAttachment":
                await this.attachVolume(r);
                return;
            case "Domain":
                await this.serveZone(r.inputs.name);
                this.opts.log(`+ domain ${r.inputs.name} served by BIND at ${this.opts.plan.dnsIp}`);
                return;
            case "DnsRecord":
                await this.addRecord(r);
                this.opts.log(`+ DNS ${r.inputs.type} ${r.state.fqdn} -> ${r.inputs.value} (TTL ${r.inputs.ttl})`);
                return;
            case "Command": {
                const host = this.hostByAddress(r.inputs.connection.host);
                const target = { fromNetns: hostNetnsName(this.opts.fabric.prefix, "admin"), host: r.inputs.connection.host, user: r.inputs.connection.user ?? "root", keyFile: this.writeKey(r.inputs.connection.privateKey) };
                let result = await runOverSsh(target, r.inputs.create, r.inputs.stdin);
                // systemd inside a container on this host's cgroup v1 now and then loses a unit's
                // cgroup while spawning (219/CGROUP). Lab-only; the wiring is idempotent, so run it again.
                for (let retry = 1; retry <= 2 && result.code !== 0 && /219\/CGROUP|Failed at step CGROUP/.test(result.stderr); retry++) {
                    this.opts.log(`! ${host.name}: systemd hit 219/CGROUP (a lab container hiccup); running its idempotent wiring again (${retry}/2)`);
                    result = await runOverSsh(target, r.inputs.create, r.inputs.stdin);
                }
                if (result.code !== 0) {
                    throw new Error(`wiring ${r.name} on ${host.name} failed (exit ${result.code}):\n${result.stderr.split("\n").slice(-25).join("\n")}`);
                }
                r.state.stdout = result.stdout;
                r.state.stderr = result.stderr;
                this.opts.log(`+ wired ${host.name} over SSH in ${took()}: ${result.stdout.trim().split("\n").pop() ?? ""}`);
                return;
            }
            case "ReservedIp":
                this.doApi?.sync();
                this.opts.log(`+ reserved IP ${r.state.ipAddress} (${r.inputs.region})`);
                return;
            default:
                if ([ "Volume", "Tag", "SshKey", "Project", "MonitorAlert", "UptimeCheck", "UptimeAlert"].includes(r.kind)) {
                    this.opts.log(`+ ${r.kind} ${r.name}`);
                }
        }
    }

    private hostById(id: string): LabHost {
        const h = this.hosts.find((x) => x.id === id);
        if (!h) throw new Error(`no lab droplet with id ${id}`);
        return h;
    }

    private hostByAddress(address: string): LabHost {
        const h = this.hosts.find((x) => x.publicIpv4 === address || x.privateIpv4 === address);
        if (!h) throw new Error(`no lab droplet at ${address}`);
        return h;
    }

    private writeKey(privateKey: string): string {
        fs.mkdirSync(path.dirname(this.keyFile), { recursive: true, mode: 0o700 });
        const text = privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`;
        if (fs.existsSync(this.keyFile) && fs.readFileSync(this.keyFile, "utf8") === text) return this.keyFile;
        // Atomically: ssh of a concurrent wiring command may be reading the file right now
        // (a truncated key read as "error in libcrypto" once several wirings ran at once).
        const tmp = `${this.keyFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, text, { mode: 0o600 });
        fs.renameSync(tmp, this.keyFile);
        return this.keyFile;
    }

    private async bootDroplet(r: ModelResource): Promise<void> {
        const vpc = this.vpcNames.get(r.inputs.vpcUuid);
        if (!vpc) throw new Error(`droplet ${r.name} names VPC ${r.inputs.vpcUuid}, which the lab has not created`);
        const tags = (r.inputs.tags as string[] | undefined) ?? [];
        const netns = await createHostNetns({
            fabric: this.opts.fabric,
            name: r.name,
            publicIp: r.state.ipv4Address,
            vpc: { bridge: vpc.bridge, privateIp: r.state.ipv4AddressPrivate, prefixLen: vpc.prefixLen },
            region: r.inputs.region,
            nameservers: [this.opts.plan.dnsIp],
        });
        // 169.254.169.254 answers inside every droplet, as on DigitalOcean.
        await enableMetadataRoute(this.opts.fabric, r.name);
        const keys = ((r.inputs.sshKeys as string[] | undefined) ?? []).map((fp) => {
            const key = this.model.ofKind("SshKey").find((k) => k.state.fingerprint === fp || k.id === fp);
            if (!key) throw new Error(`droplet ${r.name} names SSH key ${fp}, which the account does not hold`);
            return key.inputs.publicKey as string;
        });
        const stateDir = path.join(this.opts.labDir, "hosts", r.name);
        const volumes = path.join(this.opts.labDir, "volumes", r.name);
        fs.mkdirSync(volumes, { recursive: true });
        const running = await bootHost({
            name: r.name,
            rootfs: this.opts.rootfs,
            stateDir,
            netnsPath: netns,
            hostname: r.name,
            userData: r.inputs.userData ?? "",
            metaData: { instanceId: r.id, localHostname: r.name, publicKeys: keys },
            nameservers: [this.opts.plan.dnsIp],
            binds: [{ hostPath: volumes, containerPath: "/run/lab-volumes" }],
        });
        registerLabProcess(this.opts.fabric.prefix, running.pid, `droplet ${r.name}`);
        this.hosts.push({
            name: r.name,
            id: r.id,
            role: ROLES.find((x) => tags.includes(x)) ?? "unknown",
            region: r.inputs.region,
            tags,
            publicIpv4: r.state.ipv4Address,
            privateIpv4: r.state.ipv4AddressPrivate,
            netns,
            running,
        });
        this.doApi?.sync();
        await this.refreshFirewalls();
    }

    /**
     * Re-renders every droplet's firewall: tag sources resolve to the addresses of the droplets
     * holding the tag now, so each new droplet changes what its peers admit. Calls coalesce.
     */
    private refreshFirewalls(): Promise<void> {
        this.firewallDirty = true;
        this.firewallChain = this.firewallChain.then(async () => {
            if (!this.firewallDirty) return;
            this.firewallDirty = false;
            const firewalls = this.model.ofKind("Firewall").map((f) => f.inputs as DoFirewall);
            const byTag = indexDropletsByTag(this.hosts.map((h) => ({ tags: h.tags, addresses: [h.publicIpv4, h.privateIpv4] })));
            await Promise.all(this.hosts.map((h) => applyFirewall(h.netns, renderFirewallNft({
                droplet: { name: h.name, id: Number(h.id), tags: [...h.tags], addresses: [h.publicIpv4, h.privateIpv4] },
                firewalls,
                dropletsByTag: byTag,
                reservedIpsOfDroplet: [],
            }))));
        });
        return this.firewallChain;
    }

    private async attachVolume(r: ModelResource): Promise<void> {
        const host = this.hostById(String(r.inputs.dropletId));
        const volume = this.model.byId("Volume", r.inputs.volumeId);
        if (!volume) throw new Error(`volume ${r.inputs.volumeId} does not exist`);
        const name = volume.state.name as string;
        fs.mkdirSync(path.join(this.opts.labDir, "volumes", host.name, name), { recursive: true });
        // The droplet sees its volume mounted at /mnt/<name>, as DigitalOcean's auto-mount does.
        const res = await host.running.exec(["sh", "-c", `mkdir -p /mnt/${name} && (mountpoint -q /mnt/${name} || mount --bind /run/lab-volumes/${name} /mnt/${name})`]);
        if (res.code !== 0) throw new Error(`attaching volume ${name} to ${host.name} failed: ${res.stderr}`);
        this.opts.log(`+ volume ${name} (${volume.inputs.size} GiB) attached to ${host.name} at /mnt/${name}`);
    }

    private async serveZone(zone: string): Promise<void> {
        this.zones.add(zone);
        this.dnsChain = this.dnsChain.then(async () => {
            // Zones already served keep their records: the DO API may have changed them meanwhile.
            this.dns = await startDns({
                netns: hostNetnsName(this.opts.fabric.prefix, "dns"),
                listenAddress: this.opts.plan.dnsIp,
                stateDir: this.dnsStateDir,
                zones: [...this.zones].map((name) => ({ name, records: [] })),
                keepExistingRecords: true,
            });
            registerLabProcess(this.opts.fabric.prefix, this.dns.pid, "dns");
        });
        return this.dnsChain;
    }

    /** Adds the record to the shared store under its model id (read-modify-write under the store's lock). */
    private async addRecord(r: ModelResource): Promise<void> {
        const zone = r.inputs.domain as string;
        if (!this.zones.has(zone)) throw new Error(`record ${r.name} is for domain ${zone}, which the lab does not serve`);
        const record: StoredDnsRecord = { id: Number(r.id), type: r.inputs.type, name: r.inputs.name, value: r.inputs.value, ttl: r.inputs.ttl ?? 1800 };
        this.dnsChain = this.dnsChain.then(() => this.dns!.update(zone, (current) => ({
            records: [...current.filter((x) => x.id !== record.id), record],
            result: undefined,
        })));
        return this.dnsChain;
    }

    /** The packages every droplet's user-data installs: what the lab bakes into its image. */
    public static packagesOf(model: DigitalOceanModel): string[] {
        const all = new Set<string>();
        for (const d of model.ofKind("Droplet")) {
            const doc = parse(String(d.inputs.userData ?? "").replace(/^#cloud-config\n/, "")) as { packages?: string[] } | null;
            for (const p of doc?.packages ?? []) all.add(p);
        }
        return [...all].sort();
    }
}

export type { State };
