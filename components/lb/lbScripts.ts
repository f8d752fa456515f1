/**
 * The LB helper scripts, read from ./scripts at deploy time, paired with
 * their install path on the droplet for cloud-init `write_files`.
 */
import * as path from "node:path";
import { lbScriptPaths } from "./scriptPaths";
import { DropletScript, dropletScripts } from "../droplet/dropletScripts";

/** A file to install on a droplet (shape of a cloud-init write_files entry). */
export type LbScriptFile = DropletScript;

/** Source file (under ./scripts) of each entry of {@link lbScriptPaths}. */
export const lbScriptSources: Readonly<Record<keyof typeof lbScriptPaths, string>> = {
  checkHaproxy: "check-haproxy.sh",
  reservedIpTakeover: "reserved-ip-takeover.sh",
};

/** Absolute path of the source of a script in this repository. */
export function lbScriptSourcePath(name: keyof typeof lbScriptPaths): string {
  return path.join(__dirname, "scripts", lbScriptSources[name]);
}

/**
 * Scripts to install on an LB droplet, root-owned and executable.
 * keepalived's `enable_script_security` additionally requires that no path
 * component be writable by non-root users, which /usr/local/libexec satisfies.
 */
export function lbScripts(): LbScriptFile[] {
  return dropletScripts(path.join(__dirname, "scripts"), lbScriptPaths, lbScriptSources);
}
