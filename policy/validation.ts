import type * as pulumi from "@pulumi/pulumi";
import { ReportViolation, ResourceValidation, ResourceValidationArgs, StackValidation, validateResourceOfType } from "@pulumi/policy";

/**
 * The pure side of every policy: a predicate over plain resource properties that returns its
 * violation messages (empty when the resource complies). The adapters below wire a predicate
 * into @pulumi/policy; the tests call the predicates and the adapted validations directly.
 */
export type ResourceCheck<TProps, TConfig extends object = object> = (props: TProps, config: TConfig) => string[];

/** A resource as a stack validation sees it: its outputs, and which resources feed each property. */
export interface StackResource {
    readonly type: string;
    readonly urn: string;
    readonly name: string;
    readonly props: Record<string, unknown>;
    readonly propertyDependencies?: Readonly<Record<string, readonly { readonly urn: string }[]>>;
}

/** A stack-level violation: the message and the resource it is about. */
export interface StackViolation {
    readonly message: string;
    readonly urn: string;
}

/** A resource validation for one resource class, reporting each message of `check`. */
export function validateWith<TResource extends pulumi.Resource, TArgs, TConfig extends object = object>(
    resourceClass: { new (name: string, args: TArgs, ...rest: any[]): TResource }, // eslint-disable-line @typescript-eslint/no-explicit-any
    check: ResourceCheck<pulumi.Unwrap<NonNullable<TArgs>>, TConfig>,
): ResourceValidation {
    return validateResourceOfType(resourceClass, (props, args: ResourceValidationArgs, report: ReportViolation) => {
        for (const message of check(props, args.getConfig<TConfig>())) report(message);
    });
}

/** A stack validation reporting each violation of `check` against its resource. */
export function validateStackWith(check: (resources: readonly StackResource[]) => StackViolation[]): StackValidation {
    return (args, report) => {
        for (const v of check(args.resources)) report(v.message, v.urn);
    };
}

/**
 * Whether any of `candidates` refers to `to` through its `prop`: first by the engine's property dependencies (known
 * during a preview, when ids and addresses of new resources are not), then by value.
 */
export function anyRefersTo(candidates: readonly StackResource[], prop: string, to: StackResource, toProp: string): boolean {
    if (candidates.some((c) => (c.propertyDependencies?.[prop] ?? []).some((d) => d.urn === to.urn))) return true;
    const target = to.props[toProp];
    if (target === undefined || target === null) return false;
    return candidates.some((c) => c.props[prop] !== undefined && c.props[prop] !== null && String(c.props[prop]) === String(target));
}
