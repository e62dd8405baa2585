// How the tools and prompts of a federated API are named for agents, and back: one table per
// kind, built from the servers' lists (`conflicts` and `never` need them; `always` is decided by
// the prefix). A name that two servers would both answer to is a collision: recorded, and
// answered as an error, never resolved in favour of one server.
import type { FederationPlan } from './plan.ts';
import { TOOL_NAME_MAX } from '../../config/federation-schema.ts';

export interface Target {
  readonly server: string;
  /** The name on that server. */
  readonly original: string;
}

export interface Collision {
  readonly name: string;
  readonly servers: readonly string[];
}

export interface NameTable {
  /** Agent-visible name → server and original name. */
  readonly byName: ReadonlyMap<string, Target>;
  /** `server \0 original` → agent-visible name (absent: not shown). */
  readonly byOriginal: ReadonlyMap<string, string>;
  readonly collisions: readonly Collision[];
  /** Names left out because the prefixed name would be longer than MCP allows. */
  readonly tooLong: readonly string[];
}

export function originalKey(server: string, original: string): string {
  return `${server}\u0000${original}`;
}

/**
 * Builds the table of one kind from each server's names (in member order; a server whose list
 * is not known, e.g. down, contributes nothing).
 */
export function buildNameTable(plan: FederationPlan, lists: ReadonlyArray<readonly [server: string, names: readonly string[]]>): NameTable {
  const { prefix, separator } = plan.namespace;
  const offeredBy = new Map<string, string[]>();
  if (prefix !== 'always') {
    for (const [server, names] of lists) {
      for (const name of new Set(names)) {
        const servers = offeredBy.get(name);
        if (servers) servers.push(server);
        else offeredBy.set(name, [server]);
      }
    }
  }
  const byName = new Map<string, Target>();
  const byOriginal = new Map<string, string>();
  const claims = new Map<string, string[]>();
  const tooLong: string[] = [];
  for (const [server, names] of lists) {
    for (const original of names) {
      const shared = (offeredBy.get(original)?.length ?? 0) > 1;
      const shown = prefix === 'always' || (prefix === 'conflicts' && shared) ? `${server}${separator}${original}` : original;
      if (shown.length > TOOL_NAME_MAX) {
        tooLong.push(shown);
        continue;
      }
      const key = originalKey(server, original);
      if (byOriginal.has(key)) continue; // listed twice by one server
      const owners = claims.get(shown);
      if (owners) {
        owners.push(server);
        continue;
      }
      claims.set(shown, [server]);
      byName.set(shown, { server, original });
      byOriginal.set(key, shown);
    }
  }
  const collisions: Collision[] = [];
  for (const [name, servers] of claims) {
    if (servers.length < 2) continue;
    collisions.push({ name, servers });
    // Neither server's item answers to a colliding name.
    const owner = byName.get(name);
    if (owner) byOriginal.delete(originalKey(owner.server, owner.original));
    byName.delete(name);
  }
  return { byName, byOriginal, collisions, tooLong };
}

/**
 * With `prefix: always`, the server a name belongs to is read from the name: the part before the
 * first separator must be a member, exactly (case and separator included), and something must
 * follow it. Any other spelling names nothing.
 */
export function splitPrefixed(plan: FederationPlan, name: string): Target | undefined {
  const at = name.indexOf(plan.namespace.separator);
  if (at <= 0) return undefined;
  const server = name.slice(0, at);
  const original = name.slice(at + plan.namespace.separator.length);
  if (original === '' || !plan.members.includes(server)) return undefined;
  return { server, original };
}

/**
 * The server and original name behind an agent-visible name when the config alone decides it
 * (a virtual server's selection, or `prefix: always`); undefined for names only the servers'
 * lists can place (`conflicts`, `never`) and for names that place nowhere.
 */
export function staticTarget(plan: FederationPlan, kind: 'tools' | 'prompts', name: string): Target | undefined {
  const selection = plan.virtual;
  if (selection) {
    const item = kind === 'tools' ? selection.tools.get(name) : selection.prompts.get(name);
    return item ? { server: item.server, original: item.original } : undefined;
  }
  return plan.namespace.prefix === 'always' ? splitPrefixed(plan, name) : undefined;
}

export function collisionMessage(plan: FederationPlan, what: string, collision: Collision): string {
  const servers = collision.servers.map((s) => `"${s}"`).join(' and ');
  return `${what} name "${collision.name}" is offered by servers ${servers} of API "${plan.api}" (namespace.prefix: ${plan.namespace.prefix}); set namespace.prefix to ${plan.namespace.prefix === 'never' ? 'conflicts or always' : 'always'}, or select and rename the items in a virtual server`;
}
