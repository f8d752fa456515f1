import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderWiringScript, WiredCommand, WiredFile } from "./wiringScript";

/** How the program reaches a droplet for wiring: root over SSH with the stack's deploy key. */
export interface WiringConnection {
    /** Address the machine running `pulumi up` can reach (the droplet's public IPv4). */
    readonly host: pulumi.Input<string>;
    /** The deploy key's private half (OpenSSH PEM), a secret. */
    readonly privateKey: pulumi.Input<string>;
    /**
     * Every public key allowed to log in as root, the deploy key's among them; written to
     * /root/.ssh/authorized_keys on each run, so adding or revoking an operator's key needs no new droplet.
     */
    readonly authorizedKeys: pulumi.Input<pulumi.Input<string>[]>;
}

export interface HostWiringArgs {
    readonly connection: WiringConnection;
    readonly description: string;
    readonly files: pulumi.Input<readonly WiredFile[]>;
    readonly commands: pulumi.Input<readonly WiredCommand[]>;
}

/**
 * Declares the idempotent wiring of one droplet: a `command:remote:Command` that runs `bash -s`
 * over SSH and feeds it the rendered script on stdin, so secrets never reach user-data.
 * When the files change (a peer appears, a password rotates), the command runs again.
 */
export function wireHost(name: string, args: HostWiringArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const script = pulumi.all([args.files, args.connection.authorizedKeys, args.commands]).apply(([files, keys, commands]) => {
        if (keys.length === 0) throw new Error(`wiring of ${args.description}: authorizedKeys is empty; the deploy key would lock itself out`);
        const authorized: WiredFile = { path: "/root/.ssh/authorized_keys", mode: "0600", content: `${keys.map((k) => k.trim()).join("\n")}\n` };
        return renderWiringScript({ description: args.description, files: [authorized, ...files], commands });
    });
    return new command.remote.Command(name, {
        connection: {
            host: args.connection.host,
            user: "root",
            privateKey: args.connection.privateKey,
            // A new droplet's sshd comes up a while after the API reports it active.
            dialErrorLimit: 60,
            perDialTimeout: 10,
        },
        create: "bash -s",
        stdin: script,
        // Log what went wrong; the script itself never prints secrets, but stdout of a user app step might.
        logging: "stderr",
    }, opts);
}
