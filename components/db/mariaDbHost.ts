/**
 * Conversion of IPv4 CIDR blocks into MariaDB account host patterns.
 *
 * MariaDB accepts `'user'@'network/netmask'` (dotted netmask, not prefix
 * length) and only matches it when the network part has no host bits set, so
 * a sloppy CIDR would silently create an account nobody can log in with.
 * This module therefore rejects such CIDRs instead of guessing.
 */
import { isIPv4 } from "node:net";
import { intToIpv4, ipv4Netmask, ipv4ToInt } from "../config/cidr";

/**
 * Convert an IPv4 CIDR (e.g. `10.10.0.0/20`) into a MariaDB host pattern
 * (`10.10.0.0/255.255.240.0`). A `/32` becomes the bare address.
 *
 * @throws if the CIDR is malformed, has host bits set, or is `/0` (which
 *   would open the account to every address: use an explicit `'%'` host if
 *   that is really wanted).
 */
export function cidrToMariaDbHost(cidr: string): string {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match || !isIPv4(match[1])) {
    throw new Error(`cidrToMariaDbHost: ${JSON.stringify(cidr)} is not an IPv4 CIDR like 10.10.0.0/20`);
  }
  const prefix = Number(match[2]);
  if (prefix < 1 || prefix > 32) {
    throw new Error(`cidrToMariaDbHost: prefix length of ${cidr} must be 1..32`);
  }
  const address = ipv4ToInt(match[1]);
  const network = address - (address % 2 ** (32 - prefix));
  if (network !== address) {
    throw new Error(
      `cidrToMariaDbHost: ${cidr} has host bits set; MariaDB would never match it (did you mean ${intToIpv4(network)}/${prefix}?)`,
    );
  }
  return prefix === 32 ? intToIpv4(address) : `${intToIpv4(address)}/${ipv4Netmask(prefix)}`;
}
