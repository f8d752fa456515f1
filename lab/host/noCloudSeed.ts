import { stringify } from "yaml";

/** What DigitalOcean's metadata service would tell a droplet, reduced to what NoCloud carries. */
export interface HostMetaData {
  instanceId: string;
  localHostname: string;
  /** OpenSSH public key lines (the droplet's registered DigitalOcean SSH keys). */
  publicKeys: readonly string[];
}

/** Renders the NoCloud `meta-data` file (YAML) for cloud-init. */
export function renderMetaData(md: HostMetaData): string {
  if (!md.instanceId.trim()) throw new Error("meta-data: instanceId must not be empty");
  return stringify(
    {
      "instance-id": md.instanceId,
      "local-hostname": md.localHostname,
      "public-keys": md.publicKeys.map((k) => k.trim()),
    },
    { lineWidth: 0 },
  );
}

/**
 * Renders `/etc/cloud/cloud.cfg.d/99-lab.cfg`: only the NoCloud seed may be
 * used (no probing for cloud metadata services that do not exist here), and
 * cloud-init must not touch networking, which the lab's net layer set up from
 * outside the container.
 */
export function renderLabCloudCfg(): string {
  return [
    "# Written by the lab host layer: NoCloud seed only, network configured from outside.",
    "datasource_list: [ NoCloud, None ]",
    "network: {config: disabled}",
    "",
  ].join("\n");
}

/** Renders the container's /etc/resolv.conf. */
export function renderResolvConf(nameservers: readonly string[], search: readonly string[] = []): string {
  const ipish = /^[0-9a-fA-F.:]+$/;
  for (const ns of nameservers) {
    if (!ipish.test(ns)) throw new Error(`resolv.conf: nameserver must be an IP address, got ${JSON.stringify(ns)}`);
  }
  return [
    "# Written by the lab host layer.",
    ...(search.length ? [`search ${search.join(" ")}`] : []),
    ...nameservers.map((ns) => `nameserver ${ns}`),
    "",
  ].join("\n");
}
