import * as crypto from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { runtime } from "@pulumi/pulumi";
import { nthIpv4 } from "../../components/config/cidr";
import { generateEd25519KeyPair, md5Fingerprint } from "./sshKeys";
import { certRequest, type CertPolicy, generatePemKeyPair, locallySignedCert, selfSignedCert } from "./tlsCerts";
import {
    ACME_CERTIFICATE_SECRET_OUTPUTS, ACME_CERTIFICATE_TYPE, ACME_REGISTRATION_TYPE, type AcmeIssuer, acmeCertificateRequest, acmeCertificateState, acmeRegistrationState,
    modelAcmeIssuer,
} from "./acmeModel";

/** Plain JSON-ish values as the mocks see them (secrets already unwrapped). */
// The SDK types resource state as `any`; this keeps that contract without spreading `any` around.
export type State = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One resource the program registered, as the model created it. */
export interface ModelResource {
    /** Short kind, e.g. "Droplet", "Vpc", "Command". */
    readonly kind: string;
    /** The full type token, e.g. "digitalocean:index/droplet:Droplet". */
    readonly type: string;
    /** The logical (Pulumi) name. */
    readonly name: string;
    readonly id: string;
    readonly inputs: State;
    readonly state: State;
}

/** Address pools the model hands out; the lab picks ranges that its network serves. */
export interface ModelPools {
    /** Public IPv4 block of droplets. */
    readonly dropletPublic: string;
    /** Public IPv4 block of reserved IPs. */
    readonly reserved: string;
}

export const DEFAULT_POOLS: ModelPools = { dropletPublic: "192.0.2.0/24", reserved: "198.51.100.0/24" };

/** Side effects the lab plugs into the model. */
export interface ModelHooks {
    /**
     * Issues acme:index/certificate:Certificate (the lab: DNS-01 against pebble, lab/acme).
     * Default: a model CA signs it ({@link modelAcmeIssuer}).
     */
    readonly acmeIssuer?: AcmeIssuer;
}

/** How the SDK marks a serialized secret: { [specialSigKey]: specialSecretSig, value }. */
const SIG_KEY = runtime.specialSigKey;
const SECRET_SIG = runtime.specialSecretSig;

/** Replaces every serialized secret by its plain value: the model, like a provider, sees plaintext. */
export function unwrapSecrets(value: unknown): any { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[SIG_KEY] === SECRET_SIG) return unwrapSecrets(obj.value);
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** The certificate policy inputs of tls.SelfSignedCert / tls.LocallySignedCert. */
function certPolicy(inputs: State): CertPolicy {
    return { allowedUses: inputs.allowedUses ?? [], validityPeriodHours: Number(inputs.validityPeriodHours), isCaCertificate: inputs.isCaCertificate === true };
}

function kindOf(type: string): string {
    return type.split(":").pop() ?? type;
}

/**
 * A deterministic, in-memory model of the DigitalOcean (and tls/random/command) resources the
 * program declares: it computes what the real providers would report (ids, addresses, URNs,
 * fingerprints, generated keys and passwords). Unit tests read its records; the lab builds on it
 * and adds the real side effects.
 */
export class DigitalOceanModel {
    public readonly resources: ModelResource[] = [];
    private nextId = 400001;
    private publicCount = 10;
    private reservedCount = 10;
    private readonly privateCount = new Map<string, number>();
    private readonly vpcRanges = new Map<string, string>();

    private readonly acmeIssuer: AcmeIssuer;

    constructor(private readonly pools: ModelPools = DEFAULT_POOLS, hooks: ModelHooks = {}) {
        this.acmeIssuer = hooks.acmeIssuer ?? modelAcmeIssuer();
    }

    /** Resources of one kind, in registration order. */
    public ofKind(kind: string): ModelResource[] {
        return this.resources.filter((r) => r.kind === kind);
    }

    public byId(kind: string, id: string): ModelResource | undefined {
        return this.resources.find((r) => r.kind === kind && r.id === id);
    }

    private uuid(): string {
        return crypto.randomUUID();
    }

    private privateAddress(vpcId: string): string {
        const range = this.vpcRanges.get(vpcId);
        if (!range) throw new Error(`droplet references VPC ${vpcId}, which the model has not created`);
        const n = (this.privateCount.get(vpcId) ?? 1) + 1;
        this.privateCount.set(vpcId, n);
        return nthIpv4(range, n);
    }

    /** Computes id and provider state for a resource; plain function of the inputs and the model's counters. */
    public create(type: string, name: string, rawInputs: State): { id: string; state: State } {
        if (type === ACME_CERTIFICATE_TYPE) throw new Error(`${type} is issued asynchronously: use createAsync`);
        const kind = kindOf(type);
        const inputs: State = unwrapSecrets(rawInputs);
        const numericId = () => String(this.nextId++);
        let id: string;
        let state: State;
        switch (kind) {
            case "Vpc":
                id = this.uuid();
                this.vpcRanges.set(id, inputs.ipRange);
                state = { ...inputs, name: inputs.name ?? name, urn: `do:vpc:${id}` };
                break;
            case "Droplet":
                id = numericId();
                state = {
                    ...inputs,
                    name: inputs.name ?? name,
                    ipv4Address: nthIpv4(this.pools.dropletPublic, this.publicCount++),
                    ipv4AddressPrivate: this.privateAddress(inputs.vpcUuid),
                    dropletUrn: `do:droplet:${id}`,
                    urn: `do:droplet:${id}`,
                    status: "active",
                };
                break;
            case "ReservedIp": {
                const ip = nthIpv4(this.pools.reserved, this.reservedCount++);
                id = ip;
                state = { ...inputs, ipAddress: ip, reservedIpUrn: `do:reservedip:${ip}`, urn: `do:reservedip:${ip}` };
                break;
            }
            case "ReservedIpv6": {
                const ip = `2001:db8:${(this.reservedCount++).toString(16)}::1`;
                id = ip;
                state = { ...inputs, ip, reservedIpv6Urn: `do:reservedipv6:${ip}`, urn: `do:reservedipv6:${ip}` };
                break;
            }
            case "Volume":
                id = this.uuid();
                state = { ...inputs, name: inputs.name ?? `${name}-${id.slice(0, 7)}`.toLowerCase(), volumeUrn: `do:volume:${id}`, urn: `do:volume:${id}` };
                break;
            case "Domain":
                id = inputs.name;
                state = { ...inputs, domainUrn: `do:domain:${inputs.name}`, urn: `do:domain:${inputs.name}`, ttl: 1800 };
                break;
            case "DnsRecord":
                id = numericId();
                state = { ...inputs, fqdn: inputs.name === "@" ? inputs.domain : `${inputs.name}.${inputs.domain}` };
                break;
            case "Tag":
                id = inputs.name ?? name;
                state = { ...inputs, name: id };
                break;
            case "SshKey":
                id = numericId();
                state = { ...inputs, name: inputs.name ?? name, fingerprint: md5Fingerprint(inputs.publicKey) };
                break;
            case "PrivateKey": {
                id = this.uuid();
                if (inputs.algorithm === "RSA" || inputs.algorithm === "ECDSA") {
                    const { algorithm, ...pair } = generatePemKeyPair(inputs.algorithm, { rsaBits: inputs.rsaBits, ecdsaCurve: inputs.ecdsaCurve });
                    state = { ...inputs, algorithm, ...pair };
                    break;
                }
                const pair = generateEd25519KeyPair(name);
                state = { ...inputs, publicKeyOpenssh: pair.publicKeyOpenssh, privateKeyOpenssh: pair.privateKeyOpenssh, privateKeyPem: pair.privateKeyOpenssh, publicKeyFingerprintMd5: pair.fingerprintMd5 };
                break;
            }
            case "SelfSignedCert": {
                const cert = selfSignedCert(inputs.privateKeyPem, inputs, certPolicy(inputs));
                id = cert.serial;
                state = { ...inputs, certPem: cert.certPem, validityStartTime: cert.validityStartTime, validityEndTime: cert.validityEndTime, readyForRenewal: false };
                break;
            }
            case "CertRequest":
                id = this.uuid();
                state = { ...inputs, certRequestPem: certRequest(inputs.privateKeyPem, inputs) };
                break;
            case "LocallySignedCert": {
                const cert = locallySignedCert(inputs.certRequestPem, { certPem: inputs.caCertPem, privateKeyPem: inputs.caPrivateKeyPem }, certPolicy(inputs));
                id = cert.serial;
                state = { ...inputs, certPem: cert.certPem, validityStartTime: cert.validityStartTime, validityEndTime: cert.validityEndTime, readyForRenewal: false };
                break;
            }
            case "RandomPassword": {
                const length = Number(inputs.length ?? 32);
                const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                id = "none";
                state = { ...inputs, result: Array.from(crypto.randomBytes(length), (b) => alphabet[b % alphabet.length]).join("") };
                break;
            }
            case "Registration":
                if (type !== ACME_REGISTRATION_TYPE) throw new Error(`the model does not implement ${type}`);
                ({ id, state } = acmeRegistrationState(this.nextId++, inputs));
                break;
            case "Command":
                id = this.uuid();
                state = { ...inputs, stdout: "", stderr: "" };
                break;
            default:
                id = kind === "Firewall" || kind === "MonitorAlert" || kind === "UptimeCheck" || kind === "UptimeAlert" || kind === "Project" || kind === "VpcPeering" ? this.uuid() : numericId();
                state = { ...inputs };
        }
        this.resources.push({ kind, type, name, id, inputs, state });
        // Echo inputs as given, secrets still wrapped, as the engine keeps an input's secretness on the output.
        return { id, state: { ...state, ...rawInputs } };
    }

    /**
     * {@link create} for every type, plus acme:index/certificate:Certificate, whose certificate
     * comes from the ACME issuer hook. Outputs the provider marks secret come back as secrets.
     */
    public async createAsync(type: string, name: string, rawInputs: State): Promise<{ id: string; state: State }> {
        if (type !== ACME_CERTIFICATE_TYPE) return this.create(type, name, rawInputs);
        const inputs: State = unwrapSecrets(rawInputs);
        const request = acmeCertificateRequest(name, inputs);
        const issued = await this.acmeIssuer(request);
        const state: State = { ...inputs, ...acmeCertificateState(request, issued) };
        const id = String(state.certificateUrl || `acme-cert-${state.certificateSerial}`);
        this.resources.push({ kind: kindOf(type), type, name, id, inputs, state });
        const wrapped: State = { ...state };
        for (const key of ACME_CERTIFICATE_SECRET_OUTPUTS) {
            if (wrapped[key] !== undefined) wrapped[key] = { [SIG_KEY]: SECRET_SIG, value: wrapped[key] };
        }
        return { id, state: { ...wrapped, ...rawInputs } };
    }

    /** Mock of data-source calls the program makes. */
    public call(token: string, inputs: State): State {
        if (token === "digitalocean:index/getDomain:getDomain") {
            return { name: inputs.name, ttl: 1800, domainUrn: `do:domain:${inputs.name}`, zoneFile: "" };
        }
        throw new Error(`the DigitalOcean model does not implement the call ${token}`);
    }

    /** Mocks for `pulumi.runtime.setMocks` backed by this model. */
    public mocks(): pulumi.runtime.Mocks {
        return {
            newResource: (args: pulumi.runtime.MockResourceArgs) =>
                args.type === ACME_CERTIFICATE_TYPE ? this.createAsync(args.type, args.name, args.inputs) : this.create(args.type, args.name, args.inputs),
            call: (args: pulumi.runtime.MockCallArgs) => this.call(args.token, unwrapSecrets(args.inputs)),
        };
    }
}
