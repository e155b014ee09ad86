/**
 * SSRF guard for outbound webhooks and chat messages. A tenant chooses the URL, so before every
 * request the host is resolved and each address it resolves to must be global unicast: loopback,
 * private, link-local, CGNAT, unique-local, multicast, reserved and the IPv6 forms that embed an
 * IPv4 address (mapped, 6to4, Teredo, NAT64) are refused. The request then connects to the
 * address that was checked (see pinnedLookup), so a DNS answer that changes between the check
 * and the connection (rebinding) cannot redirect it. WEBHOOK_ALLOWED_HOSTS lets named hosts and
 * address ranges through for local testing and self-hosted receivers.
 */
import { lookup } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";

export class DestinationRefused extends Error {}

export interface AllowList {
  hosts: ReadonlySet<string>;
  ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

/** Entries are host names, IP addresses or CIDR ranges. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const hosts = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const entry of entries) {
    const bare = entry.replace(/^\[(.*)\]$/, "$1");
    if (bare.includes("/")) {
      ranges.push(ipaddr.parseCIDR(bare));
    } else if (ipaddr.isValid(bare)) {
      const address = normalize(ipaddr.parse(bare));
      ranges.push([address, address.kind() === "ipv4" ? 32 : 128]);
    } else {
      hosts.add(bare.toLowerCase());
    }
  }
  return { hosts, ranges };
}

export interface CheckedDestination {
  url: URL;
  /** The address to connect to: one that passed the check. */
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

const resolveAll: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

export async function checkDestination(
  target: string,
  allowList: AllowList,
  resolve: Resolver = resolveAll,
): Promise<CheckedDestination> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new DestinationRefused("The URL is not valid.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new DestinationRefused(`Only http and https URLs are allowed, not ${url.protocol}.`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const hostAllowed = allowList.hosts.has(host);

  let resolved: { address: string; family: number }[];
  if (ipaddr.isValid(host)) {
    resolved = [{ address: host, family: host.includes(":") ? 6 : 4 }];
  } else {
    try {
      resolved = await resolve(host);
    } catch (error) {
      throw new DestinationRefused(
        `${host} could not be resolved (${(error as NodeJS.ErrnoException).code ?? "error"}).`,
      );
    }
    if (resolved.length === 0) throw new DestinationRefused(`${host} has no address.`);
  }
  // Every address must pass: a name with one public and one private address could be
  // connected to either.
  for (const { address } of resolved) {
    const kind = addressKind(address);
    if (!hostAllowed && kind !== "unicast" && !inRanges(address, allowList.ranges)) {
      throw new DestinationRefused(`${host} resolves to ${address}, a ${kind} address: refused.`);
    }
  }
  const first = resolved[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** ipaddr.js's range name, after unwrapping an IPv4-mapped IPv6 address to its IPv4 form. */
function addressKind(address: string): string {
  return normalize(ipaddr.parse(address)).range();
}

function normalize(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

function inRanges(address: string, ranges: AllowList["ranges"]): boolean {
  const parsed = normalize(ipaddr.parse(address));
  return ranges.some(([network, bits]) => network.kind() === parsed.kind() && parsed.match(network, bits));
}

/** A lookup for http.request that answers with the checked address and nothing else. */
export function pinnedLookup({ address, family }: CheckedDestination): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}
