// Where a tenant's servers may connect. A tenant's admin writes its servers' URLs, and the gateway
// connects from inside the operator's network: without a limit, a tenant could point a server at
// an internal service or the cloud metadata address and have the gateway call it. So a tenant's
// servers reach public addresses only, plus what the platform lists in the tenant's
// `egress.allow` (host names, `*.suffix` patterns, IP addresses and CIDR ranges). Servers of the
// built-in default tenant (the platform's own) are not limited.
//
// The check runs where the address is known: inside the socket's DNS lookup for a host name (so
// the address checked is the one connected to, with no window for DNS rebinding), and before
// connecting for an IP literal (which the socket does not look up).
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent, buildConnector } from 'undici';
import { isPublicAddress } from '../authserver/ssrf.ts';
import { parseNet } from './egress-entries.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';

/** The socket error of a connection the egress rule refused (its `code` is what connectors map). */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
  readonly code = 'EGATEHOUSEEGRESS';
}

export class EgressRule {
  private readonly nets = new BlockList();
  private readonly hosts = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(
    readonly tenant: string,
    /** `egress.allow` of the tenant (entries already validated by the config schema). */
    readonly allow: readonly string[],
  ) {
    for (const entry of allow) {
      const net = parseNet(entry);
      if (net) this.nets.addSubnet(net.address, net.bits, net.family);
      else if (entry.startsWith('*.')) this.suffixes.push(entry.slice(1).toLowerCase());
      else this.hosts.add(entry.toLowerCase());
    }
  }

  /** A key that tells two rules apart (connection pools are shared only under the same rule). */
  get key(): string {
    return `${this.tenant}:${this.allow.join(',')}`;
  }

  /** Whether a host name is listed itself: every address it resolves to may then be reached. */
  private listsHost(hostname: string): boolean {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    return this.hosts.has(name) || this.suffixes.some((suffix) => name.endsWith(suffix));
  }

  /** Whether an address may be reached: public, or in a listed range. */
  permitsAddress(address: string): boolean {
    const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const family = isIP(bare);
    if (family === 0) return false;
    if (this.nets.check(bare, family === 4 ? 'ipv4' : 'ipv6')) return true;
    return isPublicAddress(bare);
  }

  /**
   * Why a URL's host may not be reached, when that is known without a lookup (an IP literal, or
   * `localhost`); undefined when it may be, or when the answer depends on what the name resolves to.
   */
  refusalOf(url: string): string | undefined {
    let hostname: string;
    try {
      hostname = new URL(url).hostname;
    } catch {
      return undefined;
    }
    return this.refusalOfHost(hostname);
  }

  /** As refusalOf, for a host (name or IP literal, IPv6 with or without brackets). */
  refusalOfHost(hostname: string): string | undefined {
    const bare = hostname.replace(/^\[|\]$/g, '');
    if (this.listsHost(bare)) return undefined;
    if (isIP(bare) !== 0) return this.permitsAddress(bare) ? undefined : this.message(bare, bare);
    if (bare.toLowerCase() === 'localhost' || bare.toLowerCase().endsWith('.localhost')) return this.message(bare, 'a loopback address');
    return undefined;
  }

  /** A socket lookup that refuses names resolving to any address outside the rule. */
  lookup(): LookupFunction {
    return (hostname, options, callback) => {
      const listed = this.listsHost(hostname);
      dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) return callback(error, '', 0);
        const bad = listed ? undefined : addresses.find((a) => !this.permitsAddress(a.address));
        if (bad || addresses.length === 0) return callback(new EgressRefusedError(this.message(hostname, bad?.address ?? 'no address')), '', 0);
        if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        const first = addresses[0]!;
        callback(null, first.address, first.family);
      });
    };
  }

  private message(host: string, address: string): string {
    const what = host === address ? host : `${host} (${address})`;
    return `${what} is outside the egress of tenant "${this.tenant}" (its servers reach public addresses, and others that its egress.allow lists)`;
  }
}

/**
 * An undici connector under a rule: an IP literal is checked before connecting, a host name in the
 * socket's lookup. Without a rule, undici's own connector.
 */
export function egressConnector(rule: EgressRule | undefined, options: buildConnector.BuildOptions): buildConnector.connector {
  if (!rule) return buildConnector(options);
  const connect = buildConnector({ ...options, lookup: rule.lookup() } as buildConnector.BuildOptions);
  return (opts, callback) => {
    const refusal = rule.refusalOfHost(opts.hostname);
    if (refusal) return callback(new EgressRefusedError(refusal), null);
    return connect(opts, callback);
  };
}

/** Agents for the occasional requests made for a tenant's servers (token endpoints, authorization servers), one per rule. */
const agents = new Map<string, Agent>();

/** A connection pool under a rule, for undici's request and fetch (`dispatcher`). */
export function egressAgent(rule: EgressRule): Agent {
  let agent = agents.get(rule.key);
  if (!agent) agents.set(rule.key, (agent = new Agent({ connect: egressConnector(rule, {}), keepAliveTimeout: 4_000 })));
  return agent;
}

/** The rule of a server's tenant: undefined for the default tenant (the platform's servers are not limited). */
export function egressRuleOf(tenants: readonly EgressTenant[], tenant: string | undefined): EgressRule | undefined {
  if (tenant === undefined || tenant === DEFAULT_TENANT) return undefined;
  const declared = tenants.find((t) => t.id === tenant);
  return new EgressRule(tenant, declared?.egress?.allow ?? []);
}

export interface EgressTenant {
  readonly id: string;
  readonly egress?: { readonly allow: readonly string[] } | undefined;
}
