import { BlockList, isIP } from 'node:net';

/**
 * Publisher allow-lists: addresses (192.0.2.7, 2001:db8::1) and CIDR blocks (192.0.2.0/24,
 * 2001:db8::/32). One parser for the config file, the API and the publish check.
 */

/** The family of an entry, or a reason it is not one. */
function entryOf(entry: string): { addr: string; type: 'ipv4' | 'ipv6'; prefix?: number } | string {
  const [addr, bits, extra] = entry.split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR block`;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) return { addr, type };
  const prefix = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) return `"${entry}" has a bad prefix length`;
  return { addr, type, prefix };
}

export function isIpOrCidr(entry: string): boolean {
  return typeof entryOf(entry) !== 'string';
}

/** Parses an allow-list; undefined for an empty one (anyone). Throws on a malformed entry. */
export function parseAllowList(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const e of entries) {
    const parsed = entryOf(e);
    if (typeof parsed === 'string') throw new Error(`ipAllowList: ${parsed}`);
    if (parsed.prefix === undefined) list.addAddress(parsed.addr, parsed.type);
    else list.addSubnet(parsed.addr, parsed.prefix, parsed.type);
  }
  return list;
}

/** Whether an address (as a socket reports it, IPv4-mapped IPv6 included) is on the list. */
export function allowed(list: BlockList | undefined, address: string): boolean {
  if (!list) return true;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4) return list.check(v4, 'ipv4');
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
