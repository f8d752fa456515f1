import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { assertTagName, validateRegionList } from "../droplet/tier";
import { assertArgs, assertHttpUrlInput, assertRecord, assertString, fail } from "../validation/assert";

export interface MonitoringArgs {
    /** Alerts go here. */
    readonly alertEmail: string;
    /** Droplets carrying this tag are watched (the stack tag covers every role). */
    readonly dropletTag: string;
    /** One uptime check per entry point: its region and its public health URL. */
    readonly entryPoints: readonly { readonly region: string; readonly url: pulumi.Input<string> }[];
    /** Percent thresholds over a 5-minute window. */
    readonly thresholds?: { readonly cpu?: number; readonly memory?: number; readonly disk?: number };
}

/** The metric alerts the stack raises, with their defaults. */
export const DEFAULT_THRESHOLDS = { cpu: 85, memory: 90, disk: 85 } as const;

/**
 * Droplet metric alerts (CPU, memory, disk) for every droplet of the stack, and an uptime check
 * with a down alert per entry point, so an entry point that stops answering is noticed even
 * though the DNS round-robin keeps serving users from the others.
 */
export class Monitoring extends pulumi.ComponentResource {
    public readonly uptimeCheckIds: pulumi.Output<string>[];

    public static validateArgs(args: MonitoringArgs): void {
        const a = assertArgs("MonitoringArgs", args);
        assertString("MonitoringArgs.alertEmail", a.alertEmail, "is not an email address; give one such as \"ops@example.com\"", /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i);
        assertTagName("MonitoringArgs.dropletTag", a.dropletTag);
        validateRegionList("MonitoringArgs.entryPoints", a.entryPoints, {
            shape: "{ region, url }", min: 0, tooFew: () => "", once: "one uptime check per region",
            item: (f, e) => assertHttpUrlInput(`${f}.url`, e.url),
        });
        if (a.thresholds === undefined) return;
        assertRecord("MonitoringArgs.thresholds", a.thresholds, `must be { ${Object.keys(DEFAULT_THRESHOLDS).join("?, ")}? } in percent, or left out`);
        for (const [key, value] of Object.entries(a.thresholds)) {
            if (!Object.hasOwn(DEFAULT_THRESHOLDS, key)) fail(`MonitoringArgs.thresholds.${key}`, value, `is not a threshold; known: ${Object.keys(DEFAULT_THRESHOLDS).join(", ")}`);
            if (typeof value !== "number" || !(value > 0 && value < 100)) fail(`MonitoringArgs.thresholds.${key}`, value, "must be a percentage between 0 and 100");
        }
    }

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:monitoring:Monitoring", name, args, opts);
        Monitoring.validateArgs(args);
        const t = { ...DEFAULT_THRESHOLDS, ...args.thresholds };
        const metrics = [
            { key: "cpu", type: "v1/insights/droplet/cpu", value: t.cpu, what: "CPU" },
            { key: "memory", type: "v1/insights/droplet/memory_utilization_percent", value: t.memory, what: "memory" },
            { key: "disk", type: "v1/insights/droplet/disk_utilization_percent", value: t.disk, what: "disk" },
        ];
        for (const m of metrics) {
            new digitalocean.MonitorAlert(`${name}-${m.key}`, {
                alerts: { emails: [args.alertEmail] },
                compare: "GreaterThan",
                type: m.type,
                value: m.value,
                window: "5m",
                tags: [args.dropletTag],
                enabled: true,
                description: `${name}: ${m.what} above ${m.value}% for 5 minutes`,
            }, { parent: this });
        }
        this.uptimeCheckIds = args.entryPoints.map((e) => {
            const check = new digitalocean.UptimeCheck(`${name}-${e.region}`, {
                target: e.url,
                type: "http",
                regions: ["us_east", "eu_west", "se_asia", "us_west"],
                enabled: true,
            }, { parent: this });
            new digitalocean.UptimeAlert(`${name}-${e.region}-down`, {
                checkId: check.id,
                type: "down",
                period: "2m",
                notifications: [{ emails: [args.alertEmail] }],
            }, { parent: this });
            return check.id;
        });
        this.registerOutputs({ uptimeCheckIds: this.uptimeCheckIds });
    }
}
