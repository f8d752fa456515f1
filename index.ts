/**
 * The dns-rr-ha program: reads the stack's config, validates every key before declaring
 * anything, and declares the whole stack through the HaStack component.
 */
import * as pulumi from "@pulumi/pulumi";
import { HaStack, parseStackConfig, stackResourceName } from "./components";

const settings = parseStackConfig(pulumi.runtime.allConfig(), {
    namespace: pulumi.getProject(),
    stack: pulumi.getStack(),
    baseDir: __dirname,
});

const stack = new HaStack(stackResourceName(pulumi.getStack()), settings);

/** Where users go: the round-robin name (https://, or http:// with dns-rr-ha:https false). */
export const siteUrl = stack.siteUrl;
/** When the site's certificate expires (RFC 3339); a scheduled `pulumi up` renews it. Absent without HTTPS. */
export const certificateNotAfter = stack.certificate?.notAfter;
export const siteName = stack.siteName;
/** The reserved IP of each region, as published in the A records. */
export const entryPoints = stack.entryPoints;
/** Every droplet by role: name, region, public and private IPv4. */
export const hosts = stack.hosts;
/** MariaDB private endpoints, one per region (reachable from app servers only). */
export const databaseEndpoints = stack.databaseEndpoints;
/** Health URL of each entry point (also watched by the uptime checks). */
export const healthUrls = pulumi.all(stack.loadBalancers.map((lb) => lb.healthUrl));
export const deployPublicKey = stack.deployPublicKey;
/**
 * Health-checked DNS: who votes, where each agent's status page is (private addresses), and whether
 * the agents change records ("acting", with dns-rr-ha:dnsToken) or only log ("observe-only").
 */
export const dnsFailover = stack.dnsFailover
    ? { mode: stack.dnsFailover.mode, observers: stack.dnsFailover.observerNames, statusUrls: stack.dnsFailover.statusUrls }
    : { mode: "off" };
