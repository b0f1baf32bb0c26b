/**
 * The client's address behind proxies the operator trusts (CERTFLEET_TRUSTED_PROXIES). Behind a
 * load balancer every TCP peer is the balancer, so per-IP limits (ACME new accounts) would put
 * the whole world in one bucket. A proxy appends the address it received a request from to
 * X-Forwarded-For; anyone can write that header, so it is believed only from a trusted peer,
 * and read from the right: each hop's entry was written by the hop after it, and the first
 * entry from the right that is not a trusted proxy is the client (the rest, to its left, is
 * whatever the client sent, never believed).
 */
import { BlockList, isIP } from 'node:net';

export class TrustedProxies {
  readonly #list = new BlockList();

  /** `entries`: IP addresses and CIDR subnets (IPv4 or IPv6). Throws naming the first it cannot read. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const problem = TrustedProxies.problemWith(entry);
      if (problem) throw new Error(problem);
      const [address, bits] = entry.split('/') as [string, string | undefined];
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(address, family);
      else this.#list.addSubnet(address, Number(bits), family);
    }
  }

  /** Why `entry` is neither an IP address nor a CIDR subnet, or undefined when it is one. */
  static problemWith(entry: string): string | undefined {
    const [address = '', bits, extra] = entry.split('/');
    const version = isIP(address);
    if (version === 0 || extra !== undefined) return `"${entry}" is not an IP address or a CIDR subnet (such as 10.0.0.0/8 or fd00::/8)`;
    if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128)))
      return `"${entry}": the prefix length must be 0..${version === 4 ? 32 : 128}`;
    return undefined;
  }

  trusts(address: string): boolean {
    const version = isIP(address);
    return version !== 0 && this.#list.check(address, version === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client's address: `peer` unless it is trusted, then the right-most X-Forwarded-For entry
   * that is not a trusted proxy. `forwardedFor` is every X-Forwarded-For line joined with commas.
   * An entry that is not an address ends the walk at the last hop that was.
   */
  clientAddress(peer: string, forwardedFor: string): string {
    if (forwardedFor === '' || !this.trusts(peer)) return peer;
    const hops = forwardedFor.split(',');
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hopAddress(hops[i]!);
      if (hop === undefined) break;
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}

const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;

/** An X-Forwarded-For entry's address: `1.2.3.4`, `1.2.3.4:port`, `2001:db8::1` or `[2001:db8::1]:port`. */
function hopAddress(entry: string): string | undefined {
  let text = entry.trim();
  if (text.startsWith('[')) text = text.slice(1, text.indexOf(']') < 0 ? undefined : text.indexOf(']'));
  else text = ipv4WithPort.exec(text)?.[1] ?? text;
  return isIP(text) === 0 ? undefined : text;
}
