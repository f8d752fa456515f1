/**
 * The resource graph of the real program (index.ts with the shipped Pulumi.prod.yaml), declared
 * under mocks backed by the lab's DigitalOcean model.
 */
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { DigitalOceanModel, ModelResource } from "../lab/cloud/digitalOceanModel";
import { DB_TLS_PATHS, HaStack, parseStackConfig, StackConfigError } from "../components";
import * as path from "path";
import YAML from "yaml";
import { commandsOf, droplets, prodConfig, PROJECT_DIR, runIndex, runWith, wiringFiles, wiringOf } from "./support/program";
import { checkWith } from "./support/tools";
import { programFrom, runProgram, settle } from "../lab/cloud/runProgram";

const PROD = prodConfig();
const withoutKey = (config: Record<string, string>, key: string): Record<string, string> => Object.fromEntries(Object.entries(config).filter(([k]) => k !== key));
const tagsOf = (r: ModelResource): string[] => r.inputs.tags as string[];

describe("the program with Pulumi.prod.yaml", () => {
    let model: DigitalOceanModel;
    let exports: Record<string, unknown>;
    before(async () => {
        ({ model, exports } = await runIndex(PROD));
    });

    test("declares the roles per region the stack config asks for", () => {
        for (const region of ["nyc3", "ams3"]) {
            const inRegion = (role: string) => droplets(model, role).filter((d) => d.inputs.region === region);
            assert.equal(inRegion("lb").length, 2, `lb in ${region}`);
            assert.equal(inRegion("app").length, 2, `app in ${region}`);
            assert.equal(inRegion("db").length, 1, `db in ${region}`);
            assert.equal(inRegion("cache").length, 1, `cache in ${region}`);
        }
        assert.equal(droplets(model).length, 13);
        assert.deepEqual(droplets(model, "witness").map((d) => d.inputs.region), ["sfo3"], "the DNS failover witness, in a third region");
        for (const d of droplets(model)) {
            assert.equal(d.inputs.image, "debian-12-x64");
            assert.equal(d.inputs.monitoring, true);
            assert.ok(d.inputs.vpcUuid, `${d.name} is in a VPC`);
            const vpc = model.byId("Vpc", d.inputs.vpcUuid);
            assert.equal(vpc?.inputs.region, d.inputs.region, `${d.name} is in its region's VPC`);
            assert.ok(tagsOf(d).includes(d.inputs.region), `${d.name} carries its region tag`);
            assert.ok(["lb", "app", "db", "cache", "witness"].some((r) => tagsOf(d).includes(r)), `${d.name} carries its role tag`);
        }
        assert.equal(model.ofKind("Vpc").length, 3, "one per region and the witness's");
        assert.equal(model.ofKind("VpcPeering").length, 3);
        assert.equal(model.ofKind("Volume").length, 2);
        assert.equal(model.ofKind("VolumeAttachment").length, 2);
    });

    test("publishes one A record per region's reserved IP, same name, TTL 30", () => {
        const ips = model.ofKind("ReservedIp");
        assert.equal(ips.length, 2);
        for (const ip of ips) assert.equal(ip.inputs.dropletId, undefined, "never dropletId on the ReservedIp itself");
        const records = model.ofKind("DnsRecord");
        assert.equal(records.length, 2);
        assert.deepEqual(new Set(records.map((r) => r.inputs.value)), new Set(ips.map((i) => i.state.ipAddress)));
        for (const r of records) {
            assert.equal(r.inputs.type, "A");
            assert.equal(r.inputs.name, "www");
            assert.equal(r.inputs.ttl, 30);
            assert.equal(r.inputs.domain, "example.com");
        }
        for (const a of model.ofKind("ReservedIpAssignment")) {
            const ip = model.byId("ReservedIp", a.inputs.ipAddress);
            const holder = model.byId("Droplet", String(a.inputs.dropletId));
            assert.ok(holder && tagsOf(holder).includes("lb"), "a reserved IP is held by a load balancer");
            assert.equal(holder.inputs.region, ip?.inputs.region, "of its own region");
        }
        assert.deepEqual((exports.entryPoints as { region: string }[]).map((e) => e.region), ["nyc3", "ams3"]);
        assert.equal(exports.siteUrl, "https://www.example.com/");
    });

    test("from outside, only 80/443 of the load balancers and SSH from the admin CIDR are reachable", () => {
        const firewalls = model.ofKind("Firewall");
        const adminCidrs = JSON.parse(PROD["dns-rr-ha:adminCidrs"]!) as string[];
        const world = ["0.0.0.0/0", "::/0"];
        const reachable = (d: ModelResource, source: (rule: Record<string, unknown>) => boolean): Set<string> => {
            const ports = new Set<string>();
            for (const fw of firewalls.filter((f) => (f.inputs.tags as string[]).some((t) => tagsOf(d).includes(t)))) {
                for (const rule of fw.inputs.inboundRules as Record<string, unknown>[]) if (source(rule)) ports.add(`${rule.protocol}/${rule.portRange ?? "all"}`);
            }
            return ports;
        };
        const fromAddresses = (cidrs: string[]) => (rule: Record<string, unknown>) => ((rule.sourceAddresses as string[] | undefined) ?? []).some((a) => cidrs.includes(a));
        for (const d of droplets(model)) {
            const covering = firewalls.filter((f) => (f.inputs.tags as string[]).some((t) => tagsOf(d).includes(t)));
            assert.equal(covering.length, 1, `${d.name} is covered by exactly one firewall`);
            const fromWorld = [...reachable(d, fromAddresses(world))].sort();
            assert.deepEqual(fromWorld, tagsOf(d).includes("lb") ? ["tcp/443", "tcp/80"] : [], `${d.name} from the internet`);
            assert.deepEqual([...reachable(d, fromAddresses(adminCidrs))], ["tcp/22"], `${d.name} from the admin CIDR`);
        }
        // Between tiers: by tag, least privilege.
        const byRole = (role: string) => firewalls.find((f) => (f.inputs.tags as string[]).some((t) => t.endsWith(`-${role}`)))!;
        const tagRules = (role: string) => (byRole(role).inputs.inboundRules as { protocol: string; portRange?: string; sourceTags?: string[] }[])
            .filter((r) => r.sourceTags && r.protocol !== "icmp")
            .map((r) => `${r.protocol}/${r.portRange} from ${r.sourceTags!.map((t) => t.replace(/^prod-/, "")).sort().join("+")}`).sort();
        assert.deepEqual(tagRules("app"), ["tcp/22 from app", "tcp/80 from lb"]);
        // MariaDB from the app and the peers; Galera's group channel from the peers and the arbitrator
        // on the witness, its state transfers (IST, SST) between data nodes only.
        assert.deepEqual(tagRules("db"), ["tcp/3306 from app+db", "tcp/4444 from db", "tcp/4567 from db+witness", "tcp/4568 from db"]);
        assert.deepEqual(tagRules("cache"), ["tcp/11211 from app"]);
        assert.deepEqual(tagRules("lb"), ["tcp/8404 from lb", "tcp/8405 from lb+witness", "udp/4789 from lb"]);
        assert.deepEqual(tagRules("witness"), ["tcp/4567 from db", "tcp/8405 from lb"], "the DNS agents' votes, and the arbitrator's group channel");
    });

    test("no secret reaches user-data or the stack outputs", () => {
        const secrets = [
            ...model.ofKind("RandomPassword").map((p) => p.state.result as string),
            // Whole PEMs and a line of each (a partial leak counts too).
            ...model.ofKind("PrivateKey").flatMap((k) => [k.state.privateKeyPem as string, (k.state.privateKeyPem as string).split("\n")[1]!]),
        ];
        assert.ok(secrets.length >= 2 + 2 * 7, "the two passwords; the deploy, sync and ACME account keys, the DB CA's, each DB node's and the arbitrator's");
        const arbitratorKey = model.ofKind("PrivateKey").find((k) => k.name === "prod-dnsfo-witness-tls-key");
        assert.ok(arbitratorKey && secrets.includes(arbitratorKey.state.privateKeyPem as string), "the arbitrator's TLS key is among the secrets checked");
        const outputs = JSON.stringify(exports);
        for (const d of droplets(model)) {
            for (const s of secrets) assert.ok(!(d.inputs.userData as string).includes(s), `a secret is in ${d.name}'s user-data`);
        }
        for (const s of secrets) assert.ok(!outputs.includes(s), "a secret is in the stack outputs");
        // They do reach the droplets, over the wiring channel.
        const dbWiring = wiringOf(model, droplets(model, "db")[0]!).inputs.stdin as string;
        const usersSql = wiringFiles(dbWiring).find((f) => f.path.endsWith("users.sql"))!;
        assert.equal(usersSql.mode, "0600");
        // The app's database password and the DNS agents' vote key: Galera needs no replication account.
        assert.deepEqual(model.ofKind("RandomPassword").map((p) => p.name).sort(), ["prod-db-app-password", "prod-dnsfo-vote-key"]);
        const appPassword = model.ofKind("RandomPassword").find((p) => p.name === "prod-db-app-password")!.state.result as string;
        assert.match(usersSql.content, new RegExp(`^ALTER USER 'app'@'10\\.110\\.0\\.0/255\\.255\\.240\\.0' IDENTIFIED BY '${appPassword}' REQUIRE SSL;$`, "m"));
    });

    test("the database tier's private CA: per-node server certificates for the node's private IP, keys only over the wiring", () => {
        const [caRes, ...otherCas] = model.ofKind("SelfSignedCert");
        assert.equal(otherCas.length, 0, "one CA");
        const ca = new crypto.X509Certificate(caRes!.state.certPem as string);
        assert.equal(ca.ca, true);
        const caKey = model.ofKind("PrivateKey").find((k) => k.state.privateKeyPem === caRes!.inputs.privateKeyPem);
        assert.equal(caKey?.inputs.algorithm, "ECDSA");
        const dbs = droplets(model, "db");
        assert.equal(model.ofKind("LocallySignedCert").length, dbs.length + 1, "each node's and the arbitrator's");
        const appCas = new Set<string>();
        for (const d of dbs) {
            const files = wiringFiles(wiringOf(model, d).inputs.stdin as string);
            const file = (p: string) => {
                const f = files.find((x) => x.path === p);
                assert.ok(f, `${d.name} gets ${p}`);
                return f;
            };
            const caFile = file(DB_TLS_PATHS.ca);
            const certFile = file(DB_TLS_PATHS.cert);
            const keyFile = file(DB_TLS_PATHS.key);
            assert.deepEqual([caFile.mode, caFile.owner, certFile.mode, certFile.owner, keyFile.mode, keyFile.owner], ["0644", "root:root", "0644", "root:root", "0640", "mysql:mysql"]);
            assert.equal(caFile.content.trim(), (caRes!.state.certPem as string).trim());
            const cert = new crypto.X509Certificate(certFile.content);
            const ip = d.state.ipv4AddressPrivate as string;
            assert.equal(cert.checkIP(ip), ip, `${d.name}'s certificate is for its private IP`);
            assert.ok(cert.verify(ca.publicKey), "signed by the CA");
            assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(keyFile.content)), "the key is the certificate's");
            const signed = model.ofKind("LocallySignedCert").find((c) => c.state.certPem === certFile.content);
            assert.ok(signed?.name.startsWith(`${d.name}-`), "named after its node");
            assert.ok(!(d.inputs.userData as string).includes(keyFile.content.split("\n")[1]!), "the key is not in user-data");
            const cnf = file("/etc/dns-rr-ha/db/my.cnf").content;
            for (const line of [`ssl_ca = ${DB_TLS_PATHS.ca}`, `ssl_cert = ${DB_TLS_PATHS.cert}`, `ssl_key = ${DB_TLS_PATHS.key}`, "require_secure_transport = ON"]) assert.ok(cnf.includes(`\n${line}\n`), line);
            const users = file("/etc/dns-rr-ha/db/users.sql").content;
            assert.equal(users.match(/^(CREATE|ALTER) USER .* REQUIRE SSL;$/gm)?.length, users.match(/^(CREATE|ALTER) USER /gm)?.length);
            assert.ok(!files.some((f) => f.path.endsWith("/replication.sql")), "no replication.sql: Galera replaces CHANGE MASTER");
        }
        for (const a of droplets(model, "app")) {
            const files = wiringFiles(wiringOf(model, a).inputs.stdin as string);
            const caFile = files.find((f) => f.path === "/etc/dns-rr-ha/db-ca.pem");
            assert.equal(caFile?.mode, "0644");
            appCas.add(caFile!.content.trim());
            assert.match(files.find((f) => f.path === "/etc/dns-rr-ha/app.env")!.content, /^DB_SSL_CA='\/etc\/dns-rr-ha\/db-ca\.pem'$/m);
            assert.ok(!files.some((f) => f.content.includes("PRIVATE KEY-----") && f.path.includes("db")), "no DB key on an app server");
        }
        assert.deepEqual([...appCas], [(caRes!.state.certPem as string).trim()]);
    });

    test("every cloud-config passes the real `cloud-init schema`", () => {
        const distinct = new Set(droplets(model).map((d) => d.inputs.userData as string));
        assert.equal(distinct.size, 9, "one user-data per role and region");
        for (const userData of distinct) {
            const r = checkWith("cloud-init", ["schema", "--config-file", "{}"], userData);
            assert.equal(r.status, 0, r.output);
        }
    });

    test("every wiring script passes shellcheck, and what it installs passes the daemons' own checks", () => {
        for (const d of droplets(model)) for (const cmd of commandsOf(model, d)) {
            const script = cmd.inputs.stdin as string;
            const sc = checkWith("shellcheck", ["-s", "bash", "{}"], script);
            assert.equal(sc.status, 0, `${cmd.name}: ${sc.output}`);
            const files = wiringFiles(script);
            assert.ok(files.some((f) => f.path === "/root/.ssh/authorized_keys" && f.content.includes("ssh-ed25519")));
            const haproxy = files.find((f) => f.path === "/etc/haproxy/haproxy.cfg");
            if (haproxy) {
                // With HTTPS it names the certificate bundle and the DH group the wiring installs too.
                const r = checkWith("haproxy", ["-c", "-f", "{}"], haproxy.content, "haproxy.cfg", files.filter((f) => f.path.startsWith("/etc/haproxy/tls/")));
                assert.equal(r.status, 0, `${d.name}: ${r.output}`);
                const local = droplets(model, "app").filter((a) => a.inputs.region === d.inputs.region);
                for (const a of droplets(model, "app")) {
                    const line: string | undefined = haproxy.content.split("\n").find((l) => l.includes(` ${a.state.ipv4AddressPrivate}:80`));
                    assert.ok(line, `${d.name} balances ${a.name}`);
                    assert.equal(/\bbackup\b/.test(line), !local.includes(a), `${a.name} is ${local.includes(a) ? "local" : "a backup"} for ${d.name}`);
                }
            }
            const myCnf = files.find((f) => f.path.endsWith("/my.cnf"));
            if (myCnf) {
                const r = checkWith("mariadbd", ["--defaults-file={}", "--user=root", "--help", "--verbose"], myCnf.content);
                assert.equal(r.status, 0, `${d.name}: ${r.output.slice(-2000)}`);
            }
        }
        // The commands no droplet's name prefixes: the cluster's bootstrap and the arbitrator's wiring.
        const covered = new Set(droplets(model).flatMap((d) => commandsOf(model, d)));
        const others = model.ofKind("Command").filter((c) => !covered.has(c));
        assert.deepEqual(others.map((c) => c.name).sort(), ["prod-db-arbitrator-wiring", "prod-db-bootstrap"]);
        for (const cmd of others) {
            const sc = checkWith("shellcheck", ["-s", "bash", "{}"], cmd.inputs.stdin as string);
            assert.equal(sc.status, 0, `${cmd.name}: ${sc.output}`);
        }
    });
});

/** What the SDK sent the engine to register one resource: more than the mocks' newResource is shown (its options). */
interface Registration {
    readonly type: string;
    readonly name: string;
    /** Names of the resources it waits for: its dependsOn and those its inputs come from. */
    readonly dependsOn: readonly string[];
    readonly ignoreChanges: readonly string[];
}

/** The part of the SDK's RegisterResourceRequest read here. */
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getDependenciesList(): string[];
    getIgnorechangesList(): string[];
}

/**
 * {@link runIndex}, recording every resource registration as the resource monitor receives it: the
 * mocks see a resource's type, name and inputs only, the request carries its options too.
 */
async function runIndexRecorded(config: Record<string, string>): Promise<{ model: DigitalOceanModel; registered: (name: string) => Registration }> {
    const model = new DigitalOceanModel();
    const registrations = new Map<string, Registration>();
    const index = programFrom(path.join(PROJECT_DIR, "index.ts"));
    await runProgram({
        project: "dns-rr-ha", stack: "prod", config, mocks: model.mocks(),
        program: () => {
            // setMocks installed a fresh monitor for this run; wrap its registerResource.
            const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, callback: unknown) => unknown };
            const register = monitor.registerResource.bind(monitor);
            monitor.registerResource = (req, callback) => {
                const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
                registrations.set(req.getName(), { type: req.getType(), name: req.getName(), dependsOn: req.getDependenciesList().map(nameOf), ignoreChanges: req.getIgnorechangesList() });
                return register(req, callback);
            };
            return index();
        },
    });
    return {
        model,
        registered: (name) => {
            const r = registrations.get(name);
            assert.ok(r, `${name} was registered`);
            return r;
        },
    };
}

const THREE_REGIONS = { "dns-rr-ha:regions": JSON.stringify(["nyc3", "ams3", "fra1"]), "dns-rr-ha:vpcCidrs": JSON.stringify(["10.110.0.0/20", "10.111.0.0/20", "10.113.0.0/20"]) };

/** The database side of a deployed program: each node's wiring inputs, the witness, the bootstrap and the arbitrator's wiring. */
function dbTier(model: DigitalOceanModel) {
    const dbs = droplets(model, "db");
    const nodes = dbs.map((d) => {
        const files = wiringFiles(wiringOf(model, d).inputs.stdin as string);
        const file = (suffix: string) => {
            const f = files.find((x) => x.path === `/etc/dns-rr-ha/db/${suffix}`);
            assert.ok(f, `${d.name} gets ${suffix}`);
            return f.content;
        };
        const cnf = file("my.cnf");
        const setting = (key: string) => {
            const m = new RegExp(`^${key} = (.*)$`, "m").exec(cnf);
            assert.ok(m, `${d.name}'s my.cnf sets ${key}`);
            return m[1]!;
        };
        const providerOptions = new Map(setting("wsrep_provider_options").replace(/^"|"$/g, "").split(";").map((o) => o.split("=", 2) as [string, string]));
        return { droplet: d, ip: d.state.ipv4AddressPrivate as string, files, cnf, setting, providerOptions, dbEnv: file("db.env"), usersSql: file("users.sql") };
    });
    const [witness, ...moreWitnesses] = droplets(model, "witness");
    assert.equal(moreWitnesses.length, 0);
    const named = (name: string) => model.ofKind("Command").filter((c) => c.name === name);
    return { nodes, witness, bootstraps: named("prod-db-bootstrap"), arbitrator: named("prod-db-arbitrator-wiring")[0] };
}

const packagesOf = (d: ModelResource): string[] => (YAML.parse(d.inputs.userData as string) as { packages: string[] }).packages;
const clusterAddress = (node: ReturnType<typeof dbTier>["nodes"][number]) => {
    const m = /^gcomm:\/\/(.+)$/.exec(node.setting("wsrep_cluster_address"));
    assert.ok(m, `${node.droplet.name}: wsrep_cluster_address is a gcomm:// list`);
    return m[1]!.split(",").sort();
};

describe("the database in the program: one Galera cluster, garbd on the witness with two regions", () => {
    let model: DigitalOceanModel;
    let registered: (name: string) => Registration;
    let tier: ReturnType<typeof dbTier>;
    before(async () => {
        ({ model, registered } = await runIndexRecorded(PROD));
        tier = dbTier(model);
    });

    test("the DB droplets install the server, Galera and what a state transfer runs; the witness the arbitrator", () => {
        assert.equal(tier.nodes.length, 2);
        for (const { droplet } of tier.nodes) {
            const packages = packagesOf(droplet);
            for (const p of ["mariadb-server", "galera-4", "mariadb-backup", "socat"]) assert.ok(packages.includes(p), `${droplet.name} installs ${p}`);
            assert.ok(!packages.includes("galera-arbitrator-4"));
        }
        assert.ok(tier.witness);
        assert.deepEqual(packagesOf(tier.witness).filter((p) => ["nodejs", "galera-arbitrator-4"].includes(p)), ["nodejs", "galera-arbitrator-4"], "the DNS agent's Node.js and garbd");
    });

    test("every app server knows the cluster's size (DB_CLUSTER_SIZE) and gets the /db-health page with its library, whatever the app", () => {
        for (const app of droplets(model, "app")) {
            const files = wiringFiles(wiringOf(model, app).inputs.stdin as string);
            assert.match(files.find((f) => f.path === "/etc/dns-rr-ha/app.env")!.content, /^DB_CLUSTER_SIZE='3'$/m, "two nodes and the arbitrator");
            for (const f of ["db-health.php", "lib.php"]) assert.ok(files.some((x) => x.path === `/usr/local/share/dns-rr-ha/health/${f}`), `${app.name} gets ${f}`);
            const site = files.find((f) => f.path === "/etc/nginx/sites-available/dns-rr-ha.conf")!.content;
            assert.match(site, /location = \/db-health \{[^}]*SCRIPT_FILENAME \/usr\/local\/share\/dns-rr-ha\/health\/db-health\.php;/);
        }
    });

    test("every node's my.cnf: one cluster name, every node and the arbitrator as members, TLS on the group channel and the SST, the default suspect timeout", () => {
        const members = [...tier.nodes.map((n) => `${n.ip}:4567`), `${tier.witness!.state.ipv4AddressPrivate}:4567`].sort();
        const names = new Set<string>();
        for (const node of tier.nodes) {
            assert.deepEqual(clusterAddress(node), members, `${node.droplet.name} knows every member, the witness's arbitrator included`);
            names.add(node.setting("wsrep_cluster_name"));
            assert.equal(node.setting("wsrep_node_address"), `${node.ip}:4567`);
            const o = node.providerOptions;
            assert.deepEqual([o.get("socket.ssl_key"), o.get("socket.ssl_cert"), o.get("socket.ssl_ca")], [DB_TLS_PATHS.key, DB_TLS_PATHS.cert, DB_TLS_PATHS.ca], "the group channel uses the node's certificate, verified against the DB CA");
            assert.equal(o.get("evs.suspect_timeout"), "PT5S", "db.suspectTimeoutMs defaults to 5000");
            assert.equal(o.get("gmcast.listen_addr"), `tcp://${node.ip}:4567`);
            const sst = node.cnf.slice(node.cnf.indexOf("\n[sst]\n"));
            assert.ok(node.cnf.includes("\n[sst]\n"), `${node.droplet.name} has an [sst] section`);
            for (const line of ["encrypt = 3", `tkey = ${DB_TLS_PATHS.key}`, `tcert = ${DB_TLS_PATHS.cert}`, `tca = ${DB_TLS_PATHS.ca}`]) assert.match(sst, new RegExp(`^${line}$`, "m"), `[sst] ${line}`);
            assert.match(node.dbEnv, /^CLUSTER_SIZE=3$/m, "two nodes and the arbitrator");
        }
        assert.deepEqual([...names], ["prod-db"], "one cluster name on every node");
    });

    test("the cluster is formed once, from the first node, by a create-only command; the node wirings then run one after the other", () => {
        assert.equal(tier.bootstraps.length, 1, "one bootstrap command");
        const bootstrap = tier.bootstraps[0]!;
        const first = tier.nodes[0]!.droplet;
        assert.equal(first.inputs.region, "nyc3", "the first DB droplet is the first region's");
        assert.equal(bootstrap.inputs.connection.host, first.state.ipv4Address, "on the first DB droplet");
        const script = bootstrap.inputs.stdin as string;
        assert.match(script, /^\/usr\/local\/sbin\/dns-rr-ha-wire-db --bootstrap$/m);
        assert.deepEqual(wiringFiles(script).map((f) => f.path), wiringFiles(wiringOf(model, first).inputs.stdin as string).map((f) => f.path), "with the node's own wiring inputs");
        const bootstrapping = model.ofKind("Command").filter((c) => /dns-rr-ha-wire-db --bootstrap/.test(c.inputs.stdin as string));
        assert.deepEqual(bootstrapping.map((c) => c.name), ["prod-db-bootstrap"], "no other command ever bootstraps");
        for (const { droplet } of tier.nodes) assert.match(wiringOf(model, droplet).inputs.stdin as string, /^\/usr\/local\/sbin\/dns-rr-ha-wire-db$/m, `${droplet.name}'s wiring joins`);
        // Never re-run: whatever changes later, a second, empty cluster is never formed beside the one holding the data.
        const r = registered("prod-db-bootstrap");
        assert.equal(r.type, "command:remote:Command");
        assert.deepEqual([...r.ignoreChanges].sort(), ["connection", "create", "stdin"]);
        assert.ok(r.dependsOn.includes(first.name) && r.dependsOn.includes(`${first.name}-data`), "after its droplet and volume attachment");
        const wirings = tier.nodes.map((n) => registered(`${n.droplet.name}-wiring`));
        wirings.forEach((w, i) => {
            assert.deepEqual(w.ignoreChanges, [], `${w.name} re-runs on every change`);
            assert.ok(w.dependsOn.includes(i === 0 ? "prod-db-bootstrap" : wirings[i - 1]!.name), `${w.name} waits for ${i === 0 ? "the bootstrap" : wirings[i - 1]!.name}`);
            assert.ok(!wirings.slice(i + 1).some((later) => w.dependsOn.includes(later.name)), `${w.name} waits for no later node`);
        });
        assert.ok(!r.dependsOn.some((d) => d.endsWith("-wiring")), "the bootstrap waits for no wiring");
    });

    test("garbd on the witness: its unit lists the data nodes, its key is a 0600 systemd credential, its certificate is the DB CA's for the witness's private IP", () => {
        const arbitrator = tier.arbitrator;
        assert.ok(arbitrator, "the arbitrator's wiring");
        const witness = tier.witness!;
        assert.equal(arbitrator.inputs.connection.host, witness.state.ipv4Address, "wired onto the witness");
        const files = wiringFiles(arbitrator.inputs.stdin as string);
        const file = (p: string) => {
            const f = files.find((x) => x.path === p);
            assert.ok(f, `the witness gets ${p}`);
            return f;
        };
        const unit = file("/etc/systemd/system/dns-rr-ha-garbd.service");
        assert.equal(unit.mode, "0644");
        const execStart = /^ExecStart=\/usr\/bin\/garbd (.*)$/m.exec(unit.content)?.[1];
        assert.ok(execStart, "ExecStart runs garbd");
        const args = [...execStart.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
        const arg = (flag: string) => args[args.indexOf(flag) + 1];
        assert.deepEqual(arg("--address")?.replace(/^gcomm:\/\//, "").split(",").sort(), tier.nodes.map((n) => `${n.ip}:4567`).sort(), "garbd joins the data nodes");
        assert.equal(arg("--group"), tier.nodes[0]!.setting("wsrep_cluster_name"), "of the cluster the nodes form");
        assert.match(arg("--options") ?? "", new RegExp(`(^|;)gmcast\\.listen_addr=tcp://${witness.state.ipv4AddressPrivate.replace(/\./g, "\\.")}:4567(;|$)`));
        assert.match(arg("--options") ?? "", /(^|;)evs\.suspect_timeout=PT5S(;|$)/, "the nodes' timing");
        assert.match(arg("--options") ?? "", /(^|;)socket\.ssl_key=%d\/key(;|$)/, "the key read from systemd's credentials directory");
        assert.match(unit.content, /^LoadCredential=key:\/etc\/dns-rr-ha\/garbd\/key\.pem$/m);
        const verify = checkWith("systemd-analyze", ["verify", "--man=no", "{}"], unit.content, "dns-rr-ha-garbd.service");
        assert.equal(verify.status, 0, verify.output);
        const key = file("/etc/dns-rr-ha/garbd/key.pem");
        assert.deepEqual([key.mode, key.owner], ["0600", "root:root"]);
        const certFile = file("/etc/dns-rr-ha/garbd/cert.pem");
        const cert = new crypto.X509Certificate(certFile.content);
        assert.equal(cert.checkIP(witness.state.ipv4AddressPrivate as string), witness.state.ipv4AddressPrivate, "for the witness's private IP");
        assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(key.content)), "the key is the certificate's");
        const signed = model.ofKind("LocallySignedCert").find((c) => c.state.certPem === certFile.content);
        assert.ok(signed, "a tls.LocallySignedCert");
        const [ca] = model.ofKind("SelfSignedCert");
        assert.equal(signed.inputs.caCertPem, ca!.state.certPem, "signed by the DB CA");
        assert.ok(cert.verify(new crypto.X509Certificate(ca!.state.certPem as string).publicKey));
        assert.equal(file("/etc/dns-rr-ha/garbd/ca.pem").content.trim(), (ca!.state.certPem as string).trim());
        assert.ok(!(witness.inputs.userData as string).includes(key.content.split("\n")[1]!), "the key is not in user-data");
        const r = registered("prod-db-arbitrator-wiring");
        assert.ok(r.dependsOn.includes(witness.name) && r.dependsOn.includes(`${tier.nodes[0]!.droplet.name}-wiring`), "after the witness and the first node's wiring");
    });

    test("users.sql: the app's account, REQUIRE SSL, from the regions' VPCs only; the master-master design's replicator account dropped", () => {
        const appPassword = model.ofKind("RandomPassword").find((p) => p.name === "prod-db-app-password")!.state.result as string;
        for (const node of tier.nodes) {
            assert.ok(node.usersSql.includes(`IDENTIFIED BY '${appPassword}' REQUIRE SSL;`), `${node.droplet.name} gets the app's password`);
            const hosts = [...new Set([...node.usersSql.matchAll(/^CREATE USER IF NOT EXISTS 'app'@'([^']+)'/gm)].map((m) => m[1]))];
            assert.deepEqual(hosts, ["10.110.0.0/255.255.240.0", "10.111.0.0/255.255.240.0"], "not the witness's VPC: nothing there logs in");
            assert.match(node.usersSql, /^ {4}SET stale = \(SELECT .* FROM mysql\.global_priv WHERE .* OR User = 'replicator' LIMIT 1\);$/m, "the replicator is pruned");
            assert.match(node.usersSql, /EXECUTE IMMEDIATE CONCAT\('DROP USER ', stale\);/);
        }
    });

    test("db.suspectTimeoutMs reaches every node's and the arbitrator's group timing", async () => {
        const { model: slow } = await runIndex({ ...PROD, "dns-rr-ha:db": JSON.stringify({ size: "s-2vcpu-4gb", volumeSizeGb: 50, suspectTimeoutMs: 8000 }) });
        const t = dbTier(slow);
        for (const node of t.nodes) {
            assert.equal(node.providerOptions.get("evs.suspect_timeout"), "PT8S", node.droplet.name);
            assert.equal(node.providerOptions.get("evs.inactive_timeout"), "PT24S", "dropped after three suspect periods");
        }
        const unit = wiringFiles(t.arbitrator!.inputs.stdin as string).find((f) => f.path.endsWith("dns-rr-ha-garbd.service"))!.content;
        assert.match(unit, /evs\.suspect_timeout=PT8S;/);
    });

    test("three regions: three votes without an arbitrator, even with a witness for DNS failover", async () => {
        for (const dnsFailover of [{ witnessRegion: "sfo3" }, {}]) {
            const { model: three, registered: reg } = await runIndexRecorded({ ...PROD, ...THREE_REGIONS, "dns-rr-ha:dnsFailover": JSON.stringify(dnsFailover) });
            const t = dbTier(three);
            assert.equal(t.nodes.length, 3);
            assert.equal(t.arbitrator, undefined, "no arbitrator wiring");
            assert.ok(!three.ofKind("Command").some((c) => (c.inputs.stdin as string).includes("dns-rr-ha-garbd")), "garbd nowhere");
            assert.equal(t.witness !== undefined, "witnessRegion" in dnsFailover);
            if (t.witness) assert.ok(!packagesOf(t.witness).includes("galera-arbitrator-4"), "the witness does not install garbd");
            const members = t.nodes.map((n) => `${n.ip}:4567`).sort();
            for (const node of t.nodes) {
                assert.deepEqual(clusterAddress(node), members, "the three nodes only");
                assert.match(node.dbEnv, /^CLUSTER_SIZE=3$/m, "three nodes");
            }
            assert.equal(t.bootstraps.length, 1);
            assert.equal(t.bootstraps[0]!.inputs.connection.host, t.nodes[0]!.droplet.state.ipv4Address);
            assert.ok(reg(`${t.nodes[1]!.droplet.name}-wiring`).dependsOn.includes(`${t.nodes[0]!.droplet.name}-wiring`));
            assert.ok(reg(`${t.nodes[2]!.droplet.name}-wiring`).dependsOn.includes(`${t.nodes[1]!.droplet.name}-wiring`));
        }
    });
});

describe("HTTPS in the program (on by default)", () => {
    let model: DigitalOceanModel;
    let exports: Record<string, unknown>;
    before(async () => {
        ({ model, exports } = await runIndex(PROD));
    });
    const certificate = () => {
        const [cert, ...others] = model.ofKind("Certificate").filter((c) => c.type === "acme:index/certificate:Certificate");
        assert.ok(cert && others.length === 0, "one certificate for the whole stack");
        return cert;
    };
    const bundleOf = (c: ModelResource) => [c.state.certificatePem, c.state.issuerPem, c.state.privateKeyPem].map((p) => `${(p as string).trim()}\n`).join("");

    test("one certificate for the site name from Let's Encrypt, by DNS-01 with dnsToken, P-256, renewed under 30 days left", () => {
        const cert = certificate();
        assert.equal(cert.inputs.commonName, "www.example.com");
        assert.equal(cert.inputs.keyType, "P256");
        assert.equal(cert.inputs.minDaysRemaining, 30);
        assert.deepEqual(cert.inputs.dnsChallenges, [{ provider: "digitalocean", config: { DO_AUTH_TOKEN: PROD["dns-rr-ha:dnsToken"] } }]);
        const [provider] = model.resources.filter((r) => r.type === "pulumi:providers:acme");
        assert.equal(provider?.inputs.serverUrl, "https://acme-v02.api.letsencrypt.org/directory");
        const [registration] = model.ofKind("Registration");
        assert.equal(registration?.inputs.emailAddress, "ops@example.com");
        assert.equal(cert.inputs.accountKeyPem, registration?.inputs.accountKeyPem);
        assert.equal(exports.siteUrl, "https://www.example.com/");
        assert.equal(exports.certificateNotAfter, cert.state.certificateNotAfter);
        assert.match(exports.certificateNotAfter as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    test("the certificate is ordered once the domain it proves itself in exists (DNS-01 writes a TXT record there)", () => {
        const at = (r: ModelResource) => model.resources.indexOf(r);
        const domain = model.ofKind("Domain")[0]!;
        assert.ok(at(certificate()) > at(domain), "the order waits for the Domain");
        for (const record of model.ofKind("DnsRecord")) assert.ok(at(certificate()) > at(record), `and for ${record.name}`);
    });

    test("every LB gets the PEM over its wiring (0640 root:haproxy), serves 443 with it, redirects 80, and reloads when it changes", () => {
        const bundle = bundleOf(certificate());
        const lbs = droplets(model, "lb");
        assert.equal(lbs.length, 4);
        for (const lb of lbs) {
            const script = wiringOf(model, lb).inputs.stdin as string;
            const files = wiringFiles(script);
            const pem = files.find((f) => f.path === "/etc/haproxy/tls/site.pem");
            assert.deepEqual([pem?.mode, pem?.owner], ["0640", "root:haproxy"], `${lb.name}'s site.pem`);
            assert.equal(pem?.content, bundle, "leaf, issuer, key");
            const dh = files.find((f) => f.path === "/etc/haproxy/tls/ffdhe2048.pem");
            assert.deepEqual([dh?.mode, dh?.owner], ["0644", "root:root"]);
            assert.match(dh!.content, /^-----BEGIN DH PARAMETERS-----\n/);
            const cfg = files.find((f) => f.path === "/etc/haproxy/haproxy.cfg")!.content;
            assert.match(cfg, /^ {4}bind \*:443 ssl crt \/etc\/haproxy\/tls\/site\.pem alpn h2,http\/1\.1$/m);
            assert.match(cfg, /^ {4}http-request redirect scheme https code 301 unless \{ ssl_fc \} \|\| \{ path \/lb-health \} \|\| \{ path \/db-health \}$/m);
            assert.match(cfg, /^ {4}ssl-dh-param-file \/etc\/haproxy\/tls\/ffdhe2048\.pem$/m);
            assert.match(cfg, /Strict-Transport-Security "max-age=63072000"/);
            assert.match(script, /^if drr_was_changed \/etc\/haproxy\/haproxy\.cfg \/etc\/haproxy\/tls\/site\.pem \/etc\/haproxy\/tls\/ffdhe2048\.pem; then\n {2}systemctl reload-or-restart haproxy /m);
            assert.ok(!script.includes("rm -f /etc/haproxy/tls/site.pem"), "the certificate is kept while HTTPS is on");
        }
    });

    test("the certificate's key reaches the LBs only: never user-data, other roles' wiring or the outputs", () => {
        const key = certificate().state.privateKeyPem as string;
        const leaks = [key.trim(), key.split("\n")[1]!, Buffer.from(key.trim()).toString("base64").slice(0, 40)];
        for (const d of droplets(model)) {
            for (const s of leaks) assert.ok(!(d.inputs.userData as string).includes(s), `the site key is in ${d.name}'s user-data`);
            if (tagsOf(d).includes("lb")) continue;
            for (const cmd of commandsOf(model, d)) assert.ok(!wiringFiles(cmd.inputs.stdin as string).some((f) => f.content.includes(key.split("\n")[1]!)), `the site key is sent to ${d.name}`);
        }
        for (const s of leaks) assert.ok(!JSON.stringify(exports).includes(s), "the site key is in the stack outputs");
    });

    test("every LB's wiring is a secret in the graph, and so is the bundle", async () => {
        let stack: HaStack | undefined;
        await runWith(() => {
            stack = new HaStack("s", parseStackConfig(PROD, { namespace: "dns-rr-ha", stack: "prod", baseDir: "/" }));
            return {};
        });
        assert.ok(stack!.certificate);
        assert.equal(await pulumi.isSecret(stack!.certificate.pem), true);
        const wiring = stack!.loadBalancers.flatMap((l) => l.wiring);
        assert.equal(wiring.length, 4);
        for (const w of wiring) assert.equal(await pulumi.isSecret(w.stdin), true, "an LB's wiring carries the site key");
    });

    test("an https check of the site with down and certificate-expiry alerts; the entry points stay checked on plain HTTP", () => {
        const checks = model.ofKind("UptimeCheck");
        const site = checks.filter((c) => c.inputs.type === "https");
        assert.deepEqual(site.map((c) => c.inputs.target), ["https://www.example.com/lb-health"]);
        const ips = model.ofKind("ReservedIp").flatMap((r) => [`http://${r.state.ipAddress}/lb-health`, `http://${r.state.ipAddress}/db-health`]).sort();
        assert.deepEqual(checks.filter((c) => c.inputs.type === "http").map((c) => c.inputs.target).sort(), ips, "per region: the LB and the database as the region's app servers see it");
        for (const check of checks.filter((c) => String(c.inputs.target).endsWith("/db-health"))) {
            const down = model.ofKind("UptimeAlert").filter((a) => a.inputs.checkId === check.id);
            assert.deepEqual(down.map((a) => [a.inputs.type, a.inputs.notifications]), [["down", [{ emails: ["ops@example.com"] }]]], "a broken region's DB alerts the operator");
        }
        const alerts = model.ofKind("UptimeAlert").filter((a) => a.inputs.checkId === site[0]!.id);
        assert.deepEqual(alerts.map((a) => a.inputs.type).sort(), ["down", "ssl_expiry"]);
        const expiry = alerts.find((a) => a.inputs.type === "ssl_expiry")!;
        assert.deepEqual([expiry.inputs.threshold, expiry.inputs.comparison], [15, "less_than"], "half of minDaysRemaining (30) left: renewal is overdue");
        assert.deepEqual(expiry.inputs.notifications, [{ emails: ["ops@example.com"] }]);
    });

    test("session cookies are Secure on every app server under HTTPS, and not with https false", async () => {
        const cookieSecure = (m: DigitalOceanModel) => droplets(m, "app").map((a) => {
            const ini = wiringFiles(wiringOf(m, a).inputs.stdin as string).find((f) => f.path.endsWith("dns-rr-ha-session.ini"));
            assert.ok(ini, `${a.name} has the session ini`);
            return /^session\.cookie_secure = (\d)$/m.exec(ini.content)?.[1];
        });
        assert.deepEqual(cookieSecure(model), ["1", "1", "1", "1"]);
        const off = await runIndex({ ...withoutKey(PROD, "dns-rr-ha:dnsToken"), "dns-rr-ha:https": "false" });
        assert.deepEqual(cookieSecure(off.model), ["0", "0", "0", "0"]);
    });

    test("https false: plain HTTP, no ACME resource, no certificate on the LBs (a stale one removed), no token needed", async () => {
        const off = await runIndex({ ...withoutKey(PROD, "dns-rr-ha:dnsToken"), "dns-rr-ha:https": "false" });
        assert.equal(off.exports.siteUrl, "http://www.example.com/");
        assert.equal(off.exports.certificateNotAfter, undefined);
        assert.deepEqual(off.model.resources.filter((r) => r.type.startsWith("acme:") || r.type === "pulumi:providers:acme" || r.type.endsWith(":SiteCertificate")), []);
        for (const lb of droplets(off.model, "lb")) {
            const script = wiringOf(off.model, lb).inputs.stdin as string;
            const files = wiringFiles(script);
            assert.ok(!files.some((f) => f.path.startsWith("/etc/haproxy/tls/")));
            const cfg = files.find((f) => f.path === "/etc/haproxy/haproxy.cfg")!.content;
            assert.ok(!/:443|redirect|Strict-Transport-Security/.test(cfg), "plain HTTP config");
            assert.match(script, /^rm -f \/etc\/haproxy\/tls\/site\.pem \/etc\/haproxy\/tls\/ffdhe2048\.pem$/m);
        }
        assert.deepEqual(off.model.ofKind("UptimeCheck").map((c) => c.inputs.type), ["http", "http", "http", "http"]);
        assert.ok(!off.model.ofKind("UptimeAlert").some((a) => a.inputs.type === "ssl_expiry"));
    });

    test("HTTPS without dnsToken is refused, naming the key and both fixes", async () => {
        await assert.rejects(runIndex(withoutKey(PROD, "dns-rr-ha:dnsToken")), (e: unknown) => e instanceof StackConfigError
            && /dns-rr-ha:dnsToken = \(not set\): is required while https is on \(the default\)/.test(e.message)
            && /pulumi config set --secret dns-rr-ha:dnsToken <token>/.test(e.message) && /set dns-rr-ha:https false/.test(e.message));
    });
});

describe("DNS failover in the program", () => {
    const agentFiles = (model: DigitalOceanModel, d: ModelResource) => {
        const cmd = commandsOf(model, d).find((c) => c.name === `${d.name}-dns-agent`);
        assert.ok(cmd, `${d.name} runs the DNS failover agent`);
        return { cmd, files: wiringFiles(cmd.inputs.stdin as string) };
    };

    test("every LB and the witness run an agent; each hears the four others on private addresses; the token is 0600 and only with dnsToken; one vote key, 0600, shared", async () => {
        const token = "dop_v1_0123456789abcdef0123456789abcdef";
        const { model, exports } = await runIndex({ ...PROD, "dns-rr-ha:dnsToken": token });
        const observers = [...droplets(model, "lb"), ...droplets(model, "witness")];
        assert.equal(observers.length, 5);
        const voteKeys = model.ofKind("RandomPassword").filter((p) => p.name.endsWith("-vote-key"));
        assert.equal(voteKeys.length, 1);
        assert.ok((voteKeys[0]!.state.result as string).length >= 32);
        for (const d of observers) {
            const { files } = agentFiles(model, d);
            const settings = JSON.parse(files.find((f) => f.path === "/etc/dns-rr-ha/dns-failover.json")!.content) as { observer: string; listen: { host: string }; peers: { url: string }[]; entryPoints: { ipv4: string; healthUrl: string }[]; apiUrl: string };
            assert.equal(settings.observer, d.name);
            assert.equal(settings.listen.host, d.state.ipv4AddressPrivate);
            const others = observers.filter((o) => o !== d).map((o) => `http://${o.state.ipv4AddressPrivate}:8405`);
            assert.deepEqual(settings.peers.map((p) => p.url).sort(), others.sort());
            assert.deepEqual(settings.entryPoints.map((e) => e.ipv4).sort(), model.ofKind("ReservedIp").map((r) => r.state.ipAddress as string).sort());
            assert.ok(settings.entryPoints.every((e) => e.healthUrl === `http://${e.ipv4}/lb-health`));
            assert.equal(settings.apiUrl, "https://api.digitalocean.com");
            const tokenFile = files.find((f) => f.path === "/etc/dns-rr-ha/dns-token")!;
            assert.equal(tokenFile.mode, "0600");
            assert.equal(tokenFile.content.trim(), token);
            assert.ok(!(d.inputs.userData as string).includes(token));
            assert.match(d.inputs.userData as string, /- nodejs/, "Node.js comes from the distribution at first boot");
            const voteKey = files.find((f) => f.path === "/etc/dns-rr-ha/dns-vote-key")!;
            assert.equal(voteKey.mode, "0600");
            assert.equal(voteKey.content.trim(), voteKeys[0]!.state.result, "every observer gets the one key of the stack's failover");
            assert.ok(!(d.inputs.userData as string).includes(voteKey.content.trim()));
            const agent = files.find((f) => f.path === "/usr/local/lib/dns-rr-ha/dns-failover-agent.js")!;
            assert.equal(agent.mode, "0755");
            assert.match(agent.content, /^#!\/usr\/bin\/env node/);
        }
        assert.ok(!JSON.stringify(exports).includes(token));
        assert.deepEqual((exports.dnsFailover as { mode: string }).mode, "acting");
    });

    test("without dnsToken (and so without HTTPS) the agents observe only, and a stale token file is removed", async () => {
        const { model, exports } = await runIndex({ ...withoutKey(PROD, "dns-rr-ha:dnsToken"), "dns-rr-ha:https": "false" });
        const { cmd, files } = agentFiles(model, droplets(model, "witness")[0]!);
        assert.ok(!files.some((f) => f.path === "/etc/dns-rr-ha/dns-token"));
        assert.match(cmd.inputs.stdin as string, /rm -f \/etc\/dns-rr-ha\/dns-token/);
        assert.equal((exports.dnsFailover as { mode: string }).mode, "observe-only");
    });

    test("with three regions no witness is needed; disabled, nothing of it is declared", async () => {
        const three = { ...PROD, "dns-rr-ha:regions": JSON.stringify(["nyc3", "ams3", "sgp1"]), "dns-rr-ha:vpcCidrs": JSON.stringify(["10.110.0.0/20", "10.111.0.0/20", "10.112.0.0/20"]), "dns-rr-ha:dnsFailover": "{}" };
        const { model } = await runIndex(three);
        assert.equal(droplets(model, "witness").length, 0);
        assert.equal(model.ofKind("Command").filter((c) => c.name.endsWith("-dns-agent")).length, 6);
        // Off is possible with an odd number of regions only: with two, the witness is the database's third vote.
        const off = await runIndex({ ...three, "dns-rr-ha:dnsFailover": JSON.stringify({ enabled: false }) });
        assert.equal(off.model.ofKind("Command").filter((c) => c.name.endsWith("-dns-agent")).length, 0);
        assert.equal(droplets(off.model, "witness").length, 0);
        assert.deepEqual(off.exports.dnsFailover, { mode: "off" });
    });

    test("two regions without a witness is refused, naming the key and the fix", async () => {
        await assert.rejects(runIndex({ ...PROD, "dns-rr-ha:dnsFailover": "{}" }), (e: unknown) =>
            e instanceof StackConfigError && e.problems.length === 1
            && /^dns-rr-ha:dnsFailover\.witnessRegion = \(not set\): is required with 2 regions: the database cluster needs an odd number of votes/.test(e.problems[0]!)
            && /DNS failover needs it too: a withdrawal needs a majority of observers/.test(e.message) && !/enabled: false/.test(e.message));
        // Nor may failover (and so the witness) be turned off.
        await assert.rejects(runIndex({ ...PROD, "dns-rr-ha:dnsFailover": JSON.stringify({ enabled: false }) }), (e: unknown) =>
            e instanceof StackConfigError && e.problems.length === 1
            && /^dns-rr-ha:dnsFailover\.enabled = false: must be true with a witnessRegion with 2 regions: the database cluster needs an odd number of votes/.test(e.problems[0]!));
        await assert.rejects(runIndex({ ...PROD, "dns-rr-ha:dnsFailover": JSON.stringify({ witnessRegion: "nyc3" }) }), /dnsFailover\.witnessRegion = "nyc3": must not be one of the stack's regions/);
        await assert.rejects(runIndex({ ...PROD, "dns-rr-ha:dnsFailover": JSON.stringify({ witnessRegion: "sfo3", timeoutMs: 1500 }) }), /dnsFailover\.timeoutMs = 1500: must be below dnsFailover\.intervalMs \(1000\)/);
    });
});

describe("bad stack config", () => {
    test("is rejected before any resource is declared", async () => {
        const bad = { ...PROD, "dns-rr-ha:ttl": "10", "dns-rr-ha:regoins": "[]" };
        const model = new DigitalOceanModel();
        await assert.rejects(runIndex(bad), (e: unknown) => e instanceof StackConfigError && /dns-rr-ha:ttl = 10/.test(e.message) && /regoins/.test(e.message));
        assert.equal(model.resources.length, 0);
    });
});

describe("the stack component", () => {
    const settings = () => parseStackConfig(PROD, { namespace: "dns-rr-ha", stack: "prod", baseDir: "/" });

    test("two instances in one program never collide", async () => {
        const { model } = await runWith(() => {
            new HaStack("alpha", settings());
            new HaStack("beta", { ...settings(), vpcCidrs: ["10.120.0.0/20", "10.121.0.0/20"] });
            return {};
        });
        const keys = model.resources.map((r) => `${r.type}::${r.name}`);
        assert.equal(new Set(keys).size, keys.length, `duplicate resource names: ${keys.filter((k, i) => keys.indexOf(k) !== i).join(", ")}`);
        const tags = model.ofKind("Tag").map((t) => t.state.name as string);
        assert.equal(new Set(tags).size, tags.length);
        const fwTags = model.ofKind("Firewall").flatMap((f) => f.inputs.tags as string[]);
        assert.equal(new Set(fwTags).size, fwTags.length, "each firewall selects only its own stack's droplets");
        assert.equal(droplets(model).length, 26, "12 droplets and a witness each");
    });

    test("secrets stay secret in the graph", async () => {
        let stack: HaStack | undefined;
        await runWith(() => {
            stack = new HaStack("s", settings());
            return {};
        });
        // Wiring that carries passwords or private keys on stdin must be secret as a whole.
        // The arbitrator's wiring carries its TLS key.
        const carrying = [...stack!.database.wiring, ...stack!.app.wiring, stack!.database.arbitratorWiring!];
        assert.equal(carrying.length, 7);
        for (const w of carrying) assert.equal(await pulumi.isSecret(w.stdin), true, "wiring stdin with passwords must be a secret");
        const all = [stack!.cache.wiring, stack!.database.wiring, stack!.database.arbitratorWiring!, stack!.app.wiring, ...stack!.loadBalancers.map((l) => l.wiring)].flat();
        for (const w of all) assert.equal(await pulumi.isSecret(w.connection), true, "the deploy key in the connection must be a secret");
        assert.equal(await pulumi.isSecret(stack!.database.connection), true);
        assert.equal((await settle(stack!.database.connection)).caCertPem?.startsWith("-----BEGIN CERTIFICATE-----"), true, "the app gets the DB CA");
        assert.equal(await pulumi.isSecret(stack!.entryPoints), false);
    });

    test("scaling the app tier or adding a region replaces no load balancer or database", async () => {
        const base = settings();
        const userData = async (s: ReturnType<typeof settings>) => {
            const { model } = await runWith(() => {
                new HaStack("prod", s);
                return {};
            });
            return new Map(droplets(model).map((d) => [d.name, d.inputs.userData as string]));
        };
        const before = await userData(base);
        const scaled = await userData({ ...base, app: { ...base.app, perRegion: 3 } });
        const grown = await userData({ ...base, regions: [...base.regions, "fra1"], vpcCidrs: [...base.vpcCidrs, "10.113.0.0/20"] });
        for (const [name, ud] of before) {
            if (!/-(lb|db|cache)-/.test(name)) continue;
            assert.equal(scaled.get(name), ud, `${name} user-data changed when app servers were added`);
            assert.equal(grown.get(name), ud, `${name} user-data changed when a region was added`);
        }
        assert.equal([...scaled.keys()].filter((n) => n.includes("-app-")).length, 6);
    });
});

describe("with ipv6 on", () => {
    test("each region publishes its reserved IPv6 as AAAA, and the LBs listen on it", async () => {
        const { model } = await runIndex({ ...PROD, "dns-rr-ha:ipv6": "true" });
        const v6 = model.ofKind("ReservedIpv6");
        assert.equal(v6.length, 2);
        const aaaa = model.ofKind("DnsRecord").filter((r) => r.inputs.type === "AAAA");
        assert.deepEqual(new Set(aaaa.map((r) => r.inputs.value)), new Set(v6.map((r) => r.state.ip)));
        assert.ok(aaaa.every((r) => r.inputs.name === "www" && r.inputs.ttl === 30));
        assert.equal(model.ofKind("ReservedIpv6Assignment").length, 2);
        for (const d of droplets(model)) assert.equal(d.inputs.ipv6, true);
        for (const lb of droplets(model, "lb")) {
            const files = wiringFiles(wiringOf(model, lb).inputs.stdin as string);
            assert.match(files.find((f) => f.path === "/etc/haproxy/haproxy.cfg")!.content, /bind :::80 v6only/);
            const unit = files.find((f) => f.path.endsWith("dns-rr-ha-reserved-ipv6.service"))!;
            const r = checkWith("systemd-analyze", ["verify", "--man=no", "{}"], unit.content, "dns-rr-ha-reserved-ipv6.service");
            assert.equal(r.status, 0, r.output);
        }
    });
});

describe("with a reserved-IP token", () => {
    const TOKEN = "dop_v1_0123456789abcdef0123456789abcdef";
    test("the LB pairs get it over the wiring only, 0600, with the API URL; nowhere else", async () => {
        const config = { ...PROD, "dns-rr-ha:reservedIpToken": TOKEN, "dns-rr-ha:digitaloceanApiUrl": "http://192.0.2.2" };
        const { model, exports } = await runIndex(config);
        for (const d of droplets(model)) assert.ok(!(d.inputs.userData as string).includes(TOKEN), `token in ${d.name}'s user-data`);
        assert.ok(!JSON.stringify(exports).includes(TOKEN), "token in the stack outputs");
        for (const lb of droplets(model, "lb")) {
            const files = wiringFiles(wiringOf(model, lb).inputs.stdin as string);
            const token = files.find((f) => f.path === "/etc/dns-rr-ha/do-token");
            assert.equal(token?.content, `${TOKEN}\n`);
            assert.equal(token?.mode, "0600");
            assert.equal(token?.owner, "root:root");
            assert.equal(files.find((f) => f.path === "/etc/dns-rr-ha/lb.env")?.content, "DO_API_URL=http://192.0.2.2\n");
        }
        for (const other of [...droplets(model, "app"), ...droplets(model, "db"), ...droplets(model, "cache")]) {
            assert.ok(!(wiringOf(model, other).inputs.stdin as string).includes(Buffer.from(TOKEN).toString("base64").slice(0, 20)), `token sent to ${other.name}`);
        }
    });

    test("its wiring is a secret in the graph", async () => {
        let stack: HaStack | undefined;
        await runWith(() => {
            stack = new HaStack("s", { ...parseStackConfig(PROD, { namespace: "dns-rr-ha", stack: "prod", baseDir: "/" }), reservedIpToken: TOKEN });
            return {};
        });
        for (const w of stack!.loadBalancers.flatMap((l) => l.wiring)) assert.equal(await pulumi.isSecret(w.stdin), true);
    });

    test("a token that is not one is refused by the config check", async () => {
        await assert.rejects(runIndex({ ...PROD, "dns-rr-ha:reservedIpToken": "short" }), (e: unknown) => /dns-rr-ha:reservedIpToken = \(secret, 5 characters\): must be a DigitalOcean API token/.test(String(e)) && !String(e).includes("short"));
    });
});
