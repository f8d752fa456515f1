/**
 * Memory of a DigitalOcean size slug in MiB, read from the slug itself ("s-2vcpu-4gb" -> 4096,
 * "s-1vcpu-512mb-10gb" -> 512). Used to size buffers; unknown shapes fall back to 1 GiB.
 */
export function sizeMemoryMb(slug: string): number {
    const mb = /-(\d+)mb(?:-|$)/.exec(slug);
    if (mb) return Number(mb[1]);
    // The first "<n>gb" after the vCPU count is memory; a later one (e.g. "-10gb" disk) is not.
    const gb = /vcpu-(\d+)gb/.exec(slug) ?? /-(\d+)gb/.exec(slug);
    return gb ? Number(gb[1]) * 1024 : 1024;
}
