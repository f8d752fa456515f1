import * as pulumi from "@pulumi/pulumi";

export interface RunProgramOptions {
    /** Pulumi project name (the config namespace). */
    readonly project: string;
    readonly stack: string;
    /** Stack config as Pulumi passes it: "namespace:key" -> text (JSON for structured values). */
    readonly config: Readonly<Record<string, string>>;
    readonly mocks: pulumi.runtime.Mocks;
    /** Declares the resources; returns the stack's exports. */
    readonly program: () => Record<string, unknown> | Promise<Record<string, unknown>>;
}

/**
 * A program from its entry module (e.g. index.ts), loaded afresh on every call: the module
 * declares its resources when it runs, so a cached module would declare nothing the second time.
 */
export function programFrom(entry: string): () => Record<string, unknown> {
    return () => {
        delete require.cache[require.resolve(entry)];
        return { ...(require(entry) as Record<string, unknown>) };
    };
}

/** Resolves an output, known or not, to its plain value (secrets unwrapped). */
export function settle<T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
    return new Promise((resolve) => pulumi.output(value).apply((v) => { resolve(v); return v; }));
}

/**
 * Wraps mocks so the runner knows when the program has stopped registering: the SDK gives no
 * "done" signal short of disconnecting, which would end the process's ability to run again.
 */
function tracked(mocks: pulumi.runtime.Mocks): { mocks: pulumi.runtime.Mocks; idle: () => Promise<void>; failed: Promise<never>; fail: (e: unknown) => void } {
    let pending = 0;
    let calls = 0;
    let fail: (e: unknown) => void = () => undefined;
    // Rejects with the first error a mock raised (a resource that could not be created).
    const failed = new Promise<never>((_, reject) => { fail = reject; });
    failed.catch(() => undefined);
    const wrap = <A, R>(fn: (a: A) => R | Promise<R>) => async (a: A): Promise<R> => {
        pending++;
        calls++;
        try {
            return await fn(a);
        } catch (e) {
            fail(e);
            throw e;
        } finally {
            pending--;
        }
    };
    const idle = async () => {
        // Quiet for 100 ms with nothing in flight: every apply that declares resources has run.
        let last = -1;
        let quietSince = Date.now();
        for (;;) {
            await new Promise((r) => setTimeout(r, 10));
            if (pending > 0 || calls !== last) {
                last = calls;
                quietSince = Date.now();
            } else if (Date.now() - quietSince >= 100) {
                return;
            }
        }
    };
    return {
        mocks: { newResource: wrap(mocks.newResource.bind(mocks)), call: wrap(mocks.call.bind(mocks)) },
        idle,
        failed,
        fail: (e) => fail(e),
    };
}

/**
 * Runs a Pulumi program in this process against mocks: sets the stack config, runs the
 * program, resolves its exports and waits until every resource registration has finished.
 * Throws what the program throws (e.g. a config error, before any resource is declared) and
 * the first error a mock raised (a resource that failed to create).
 */
export async function runProgram(opts: RunProgramOptions): Promise<Record<string, unknown>> {
    pulumi.runtime.setAllConfig({ ...opts.config });
    const t = tracked(opts.mocks);
    await pulumi.runtime.setMocks(t.mocks, opts.project, opts.stack, false);
    // The SDK also rejects a failed registration on a promise nobody holds; during the run that
    // is this run's failure, not a reason to crash the process with a stack trace.
    const onUnhandled = (reason: unknown) => t.fail(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
        const exports = await opts.program();
        const resolved = await Promise.race([settle(exports as Record<string, pulumi.Input<unknown>>), t.failed]);
        await Promise.race([t.idle(), t.failed]);
        return resolved as Record<string, unknown>;
    } finally {
        // After a failure the SDK rethrows once its registration settles: keep listening until then.
        await t.idle();
        process.off("unhandledRejection", onUnhandled);
    }
}
