/**
 * Runs policies the way the engine does, without the engine (as pulumi/pulumi-policy-aws tests
 * do): a fake `args` with type, props, urn and name, and a `reportViolation` that collects.
 */
import type { ModelResource } from "../lab/cloud/digitalOceanModel";
import {
    Policies, PolicyConfigSchema, PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";

/** A resource as a test declares it: inputs for resource policies, outputs for stack policies. */
export interface TestResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly outputs?: Record<string, unknown>;
    readonly propertyDependencies?: Record<string, string[]>;
}

export interface Violation {
    readonly policy: string;
    readonly message: string;
    readonly urn?: string;
}

/** Policy name -> config object, as in a --policy-pack-config file. */
export type PackConfig = Readonly<Record<string, Record<string, unknown>>>;

class NotApplicable extends Error {}

export function urnOf(r: Pick<TestResource, "type" | "name">, stack = "test"): string {
    return `urn:pulumi:${stack}::dns-rr-ha::${r.type}::${r.name}`;
}

/** The config a policy sees: the schema's defaults overlaid with the given values, as the engine does. */
function configFor(schema: PolicyConfigSchema | undefined, given: Record<string, unknown> | undefined): Record<string, unknown> {
    const defaults = Object.fromEntries(Object.entries(schema?.properties ?? {}).flatMap(([k, v]) => (v.default !== undefined ? [[k, v.default]] : [])));
    return { ...defaults, ...given };
}

const isTypeOf = (type: string) => (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType === type;
const notApplicable = (reason?: string): never => { throw new NotApplicable(reason); };
const opts = { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };

/** Runs a resource policy on one resource; returns the messages it reported (none when not applicable). */
export async function runResourcePolicy(policy: ResourceValidationPolicy, r: TestResource, config?: Record<string, unknown>): Promise<string[]> {
    const messages: string[] = [];
    const args: ResourceValidationArgs = {
        type: r.type,
        props: r.inputs,
        urn: urnOf(r),
        name: r.name,
        opts,
        stackTags: new Map(),
        isType: isTypeOf(r.type),
        asType: ((cls: unknown) => (isTypeOf(r.type)(cls) ? r.inputs : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => configFor(policy.configSchema, config) as T,
        notApplicable,
    };
    const validations = [policy.validateResource ?? []].flat();
    for (const validate of validations) {
        try {
            await validate(args, (message) => messages.push(message));
        } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
        }
    }
    return messages;
}

/** Runs a stack policy over all resources (their outputs); returns what it reported. */
export async function runStackPolicy(policy: StackValidationPolicy, resources: readonly TestResource[], config?: Record<string, unknown>): Promise<{ message: string; urn?: string }[]> {
    const byUrn = new Map<string, PolicyResource>();
    const policyResources = resources.map((r): PolicyResource => {
        const props = r.outputs ?? r.inputs;
        const pr: PolicyResource = {
            type: r.type, props, urn: urnOf(r), name: r.name, opts, dependencies: [], propertyDependencies: {},
            isType: isTypeOf(r.type),
            asType: ((cls: unknown) => (isTypeOf(r.type)(cls) ? props : undefined)) as PolicyResource["asType"],
        };
        byUrn.set(pr.urn, pr);
        return pr;
    });
    resources.forEach((r, i) => {
        for (const [prop, urns] of Object.entries(r.propertyDependencies ?? {})) {
            policyResources[i]!.propertyDependencies[prop] = urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
        }
    });
    const reported: { message: string; urn?: string }[] = [];
    const args: StackValidationArgs = { resources: policyResources, stackTags: new Map(), getConfig: <T extends object>() => configFor(policy.configSchema, config) as T, notApplicable };
    try {
        await policy.validateStack(args, (message, urn) => reported.push(urn === undefined ? { message } : { message, urn }));
    } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
    }
    return reported;
}

function isStackPolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy {
    return "validateStack" in p;
}

/** Runs every policy of a pack over a graph: resource policies on each resource, stack policies once. */
export async function runPack(policies: Policies, resources: readonly TestResource[], config: PackConfig = {}): Promise<Violation[]> {
    const violations: Violation[] = [];
    for (const p of policies) {
        if (isStackPolicy(p)) {
            for (const v of await runStackPolicy(p, resources, config[p.name])) violations.push({ policy: p.name, ...v });
        } else {
            for (const r of resources) {
                for (const message of await runResourcePolicy(p, r, config[p.name])) violations.push({ policy: p.name, message, urn: urnOf(r) });
            }
        }
    }
    return violations;
}

/** The model's resources as policies see them: inputs, and outputs with the id (bridged providers report it). */
export function fromModel(resources: readonly ModelResource[]): TestResource[] {
    return resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, outputs: { ...r.state, id: r.id } }));
}
