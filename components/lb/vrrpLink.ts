/**
 * VRRP between the two load balancers of a region cannot travel as itself: DigitalOcean cloud
 * firewalls pass only TCP, UDP and ICMP, and VRRP is IP protocol 112. So the pair talks VRRP
 * over a point-to-point VXLAN (UDP 4789, allowed between LBs only) on the VPC interface, and
 * keepalived runs on that link. These renderers produce the systemd units that hold the link up.
 */

/** Settings of the VXLAN link of one LB. */
export interface VrrpLinkSettings {
    /** This LB's VPC address (VXLAN underlay source). */
    readonly privateAddress: string;
    /** The peer LB's VPC address. */
    readonly peerAddress: string;
    /** 0 for the first LB of the pair, 1 for the second: picks the link address. */
    readonly side: 0 | 1;
    /** VPC interface (default eth1). */
    readonly underlayInterface?: string;
    /** VXLAN network identifier, same on both sides (default 4242). */
    readonly vni?: number;
}

/** Name of the link keepalived binds to. */
export const VRRP_LINK_INTERFACE = "vrrp0";
/** UDP port of the VXLAN underlay (the firewall opens it between LBs). */
export const VRRP_LINK_PORT = 4789;
/** systemd unit bringing the link up before keepalived. */
export const VRRP_LINK_UNIT = "dns-rr-ha-vrrp-link.service";

/** Address of one side of the link (a /30 out of link-local space, never routed). */
export function vrrpLinkAddress(side: 0 | 1): string {
    return `169.254.253.${side + 1}`;
}

const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;

/** The shell commands that (re)create the link, in order; safe to run again. */
export function vrrpLinkCommands(s: VrrpLinkSettings): string[] {
    const vni = s.vni ?? 4242;
    const dev = s.underlayInterface ?? "eth1";
    return [
        `{ ip link del ${VRRP_LINK_INTERFACE} 2>/dev/null || true; }`,
        `ip link add ${VRRP_LINK_INTERFACE} type vxlan id ${vni} local ${s.privateAddress} remote ${s.peerAddress} dstport ${VRRP_LINK_PORT} dev ${dev}`,
        `ip addr replace ${vrrpLinkAddress(s.side)}/30 dev ${VRRP_LINK_INTERFACE}`,
        `ip link set ${VRRP_LINK_INTERFACE} up`,
    ];
}

export function renderVrrpLinkUnit(s: VrrpLinkSettings): string {
    if (!IPV4.test(s.privateAddress)) throw new Error(`VrrpLinkSettings.privateAddress "${s.privateAddress}" must be an IPv4 address`);
    if (!IPV4.test(s.peerAddress)) throw new Error(`VrrpLinkSettings.peerAddress "${s.peerAddress}" must be an IPv4 address`);
    if (s.privateAddress === s.peerAddress) throw new Error(`VrrpLinkSettings.privateAddress and peerAddress are both ${s.peerAddress}; the link needs two ends`);
    const vni = s.vni ?? 4242;
    if (!Number.isInteger(vni) || vni < 1 || vni > 16777215) throw new Error(`VrrpLinkSettings.vni ${vni} must be 1-16777215`);
    const dev = s.underlayInterface ?? "eth1";
    if (!/^[a-z0-9]{1,15}$/.test(dev)) throw new Error(`VrrpLinkSettings.underlayInterface "${dev}" is not an interface name`);
    return [
        "[Unit]",
        "Description=dns-rr-ha VXLAN link carrying VRRP to the peer load balancer",
        "After=network-online.target",
        "Wants=network-online.target",
        "Before=keepalived.service",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        // One process, not ExecStartPre plus three ExecStart lines: fewer spawns, and systemd on
        // cgroup v1 has been seen losing the unit's cgroup between two quick ones (219/CGROUP).
        `ExecStart=/bin/sh -c '${vrrpLinkCommands(s).join(" && ")}'`,
        `ExecStop=/usr/sbin/ip link del ${VRRP_LINK_INTERFACE}`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

/** Drop-in making keepalived start after, and stop with, the link. */
export function renderKeepalivedDropIn(): string {
    return ["[Unit]", `Requires=${VRRP_LINK_UNIT}`, `After=${VRRP_LINK_UNIT}`, ""].join("\n");
}
