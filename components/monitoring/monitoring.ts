import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { assertTagName, validateRegionList } from "../droplet/tier";
import { assertArgs, assertHttpUrlInput, assertInput, assertInt, assertRecord, assertString, fail } from "../validation/assert";

export interface MonitoringArgs {
    /** Alerts go here. */
    readonly alertEmail: string;
    /** Droplets carrying this tag are watched (the stack tag covers every role). */
    readonly dropletTag: string;
    /** One uptime check per entry point: its region and its public health URL. */
    readonly entryPoints: readonly { readonly region: string; readonly url: pulumi.Input<string> }[];
    /**
     * With HTTPS: one check of the site over https by its name (whichever entry point DNS picks;
     * every LB serves the same certificate), alerting when it is down and when its certificate has
     * fewer than `sslExpiryDays` days left, i.e. renewal by `pulumi up` has not happened.
     */
    readonly site?: {
        /** An https URL on the site name, e.g. "https://www.example.com/lb-health". */
        readonly url: pulumi.Input<string>;
        /** Alert once the certificate has fewer days left than this (1 to 89). */
        readonly sslExpiryDays: number;
    };
    /**
     * One uptime check per region of the database's health as the region's app servers see it
     * (e.g. "http://<reserved ip>/db-health": 503 while the region's DB node is not Synced in a
     * primary component or the cluster lacks a member), with a down alert: a broken node or a
     * split cluster reaches `alertEmail` within minutes even while the site still serves.
     */
    readonly dbHealth?: readonly { readonly region: string; readonly url: pulumi.Input<string> }[];
    /** Percent thresholds over a 5-minute window. */
    readonly thresholds?: { readonly cpu?: number; readonly memory?: number; readonly disk?: number };
}

/** Where DigitalOcean probes from. */
const UPTIME_REGIONS = ["us_east", "eu_west", "se_asia", "us_west"];

/** The metric alerts the stack raises, with their defaults. */
export const DEFAULT_THRESHOLDS = { cpu: 85, memory: 90, disk: 85 } as const;

/**
 * Droplet metric alerts (CPU, memory, disk) for every droplet of the stack, and an uptime check
 * with a down alert per entry point, so an entry point that stops answering is noticed even
 * though the DNS round-robin keeps serving users from the others; one per region of the
 * database's health; with HTTPS, a check of the site
 * by name with down and certificate-expiry alerts.
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
        if (a.dbHealth !== undefined) {
            validateRegionList("MonitoringArgs.dbHealth", a.dbHealth, {
                shape: "{ region, url }", min: 0, tooFew: () => "", once: "one database health check per region",
                item: (f, e) => assertHttpUrlInput(`${f}.url`, e.url),
            });
        }
        if (a.site !== undefined) {
            assertRecord("MonitoringArgs.site", a.site, "must be { url, sslExpiryDays } to watch the site over https, or left out");
            assertInput("MonitoringArgs.site.url", a.site.url, (v) => typeof v === "string" && /^https:\/\/\S+$/.test(v), "must be an https URL such as \"https://www.example.com/lb-health\" (or an Output of one)");
            assertInt("MonitoringArgs.site.sslExpiryDays", a.site.sslExpiryDays, 1, 89, "must be a whole number of days from 1 to 89");
        }
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
        const notifications = [{ emails: [args.alertEmail] }];
        /** An uptime check of `target` with a down alert; both named `${name}-${what}`. */
        const watch = (what: string, target: pulumi.Input<string>, type: "http" | "https"): digitalocean.UptimeCheck => {
            const check = new digitalocean.UptimeCheck(`${name}-${what}`, { target, type, regions: UPTIME_REGIONS, enabled: true }, { parent: this });
            new digitalocean.UptimeAlert(`${name}-${what}-down`, { checkId: check.id, type: "down", period: "2m", notifications }, { parent: this });
            return check;
        };
        this.uptimeCheckIds = args.entryPoints.map((e) => watch(e.region, e.url, "http").id);
        for (const d of args.dbHealth ?? []) this.uptimeCheckIds.push(watch(`db-${d.region}`, d.url, "http").id);
        if (args.site) {
            const site = watch("site", args.site.url, "https");
            // Threshold in days: the certificate has fewer left than this.
            new digitalocean.UptimeAlert(`${name}-site-ssl-expiry`, {
                checkId: site.id, type: "ssl_expiry", threshold: args.site.sslExpiryDays, comparison: "less_than", period: "2m", notifications,
            }, { parent: this });
            this.uptimeCheckIds.push(site.id);
        }
        this.registerOutputs({ uptimeCheckIds: this.uptimeCheckIds });
    }
}
