import { parseCidr } from "../components/config/cidr";

/** A CIDR block as a number: the address bits and the prefix, in its family's width. */
interface Block {
    readonly family: 4 | 6;
    readonly bits: bigint;
    readonly prefix: number;
}

function ipv6ToBigInt(address: string): bigint {
    // URL normalizes every RFC 4291 text form (embedded IPv4 included) to hex groups around one "::".
    const host = new URL(`http://[${address}]/`).hostname.slice(1, -1);
    const [head = "", tail] = host.split("::");
    const groupsOf = (s: string | undefined) => (s ? s.split(":") : []);
    const h = groupsOf(head);
    const t = groupsOf(tail);
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
    return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

function ipv4ToBigInt(address: string): bigint {
    return address.split(".").reduce((acc, octet) => (acc << 8n) + BigInt(Number(octet)), 0n);
}

/** Parses a CIDR block, or a bare address (DigitalOcean firewalls accept both) as a /32 or /128. */
function block(text: string): Block | undefined {
    const withPrefix = text.includes("/") ? text : `${text}/${text.includes(":") ? 128 : 32}`;
    const p = parseCidr(withPrefix);
    if (!p) return undefined;
    return { family: p.family, bits: p.family === 4 ? ipv4ToBigInt(p.address) : ipv6ToBigInt(p.address), prefix: p.prefix };
}

/** Whether `text` is the whole internet of its family (a /0, e.g. "0.0.0.0/0" or "::/0"). */
export function isWholeInternet(text: string): boolean {
    return block(text)?.prefix === 0;
}

/** Whether every address of `inner` lies in `outer` (false when either is not a CIDR block). */
export function cidrWithin(inner: string, outer: string): boolean {
    const i = block(inner);
    const o = block(outer);
    if (!i || !o || i.family !== o.family || i.prefix < o.prefix) return false;
    const hostBits = BigInt((o.family === 4 ? 32 : 128) - o.prefix);
    return i.bits >> hostBits === o.bits >> hostBits;
}
