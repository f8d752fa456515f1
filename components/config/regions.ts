/**
 * DigitalOcean region slugs that accept new droplets, VPCs, volumes and reserved IPs.
 * Retired slugs (nyc2, ams2, sfo1) are left out on purpose: DigitalOcean refuses new droplets there.
 */
export const DIGITALOCEAN_REGIONS = [
    "nyc1", "nyc3", "sfo2", "sfo3", "ams3", "sgp1", "lon1", "fra1", "tor1", "blr1", "syd1", "atl1",
] as const;

export type DigitalOceanRegion = (typeof DIGITALOCEAN_REGIONS)[number];

export function isDigitalOceanRegion(value: string): value is DigitalOceanRegion {
    return (DIGITALOCEAN_REGIONS as readonly string[]).includes(value);
}
