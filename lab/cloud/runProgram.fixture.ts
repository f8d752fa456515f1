/** Run by runProgram.test.ts in its own process: a program whose resource fails to create. */
import * as digitalocean from "@pulumi/digitalocean";
import { runProgram } from "./runProgram";

const failing = {
    newResource: async () => {
        await new Promise((r) => setTimeout(r, 20));
        throw new Error("droplet could not boot");
    },
    call: () => ({}),
};
runProgram({ project: "p", stack: "s", config: {}, mocks: failing, program: () => ({ ip: new digitalocean.ReservedIp("ip", { region: "nyc3" }).ipAddress }) })
    .then(() => process.stdout.write("resolved\n"), (e: Error) => process.stdout.write(`rejected: ${e.message}\n`));
