import { isIP } from 'node:net';

/** An address (192.0.2.7, 2001:db8::1) or a CIDR block (192.0.2.0/24, 2001:db8::/32) of an IP allow-list. */
export function isIpOrCidr(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(entry) !== 0;
  const version = isIP(entry.slice(0, slash));
  const bits = entry.slice(slash + 1);
  if (version === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (version === 4 ? 32 : 128);
}
