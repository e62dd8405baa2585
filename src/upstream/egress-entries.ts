// The entries of a tenant's `egress.allow` (see egress.ts): host names, `*.suffix` patterns, IP
// addresses and CIDR ranges. Apart from the rule itself so that the config schema can check them.
import { isIP } from 'node:net';

/** One entry of `egress.allow`: a problem message when it is none of the accepted forms. */
export function egressEntryProblem(entry: string): string | undefined {
  if (parseNet(entry) !== undefined) return undefined;
  if (/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(entry)) return undefined;
  return `expected a host name (api.example.com), a pattern (*.example.com), an IP address (10.0.0.5) or a CIDR range (10.0.0.0/8); got "${entry}"`;
}

export function parseNet(entry: string): { address: string; bits: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', bitsText, extra] = entry.split('/');
  if (extra !== undefined) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined;
  return { address, bits, family: family === 4 ? 'ipv4' : 'ipv6' };
}

