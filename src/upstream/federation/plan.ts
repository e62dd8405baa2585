// What a federated API or virtual server is made of, compiled once per config load: its member
// servers in order, how names are spelled, and (virtual servers) the exact selection with its
// rewrites. The connector and the ACL's name resolution both read it.
import type { ApiData } from '../../config/schema.ts';
import type { NamespaceData } from '../../config/federation-schema.ts';
import { globToRegExp } from '../../mcp/glob.ts';

export interface VirtualTool {
  readonly server: string;
  /** The name on the server. */
  readonly original: string;
  /** The name agents see. */
  readonly name: string;
  readonly description: string | undefined;
  readonly annotations: Readonly<Record<string, unknown>> | undefined;
  readonly fixed: Readonly<Record<string, unknown>>;
  readonly defaults: Readonly<Record<string, unknown>>;
}

export interface VirtualPrompt {
  readonly server: string;
  readonly original: string;
  readonly name: string;
  readonly description: string | undefined;
}

export interface VirtualResources {
  readonly server: string;
  readonly glob: string;
  readonly match: RegExp;
}

export interface VirtualSelection {
  /** Agent-visible name → tool. */
  readonly tools: ReadonlyMap<string, VirtualTool>;
  readonly prompts: ReadonlyMap<string, VirtualPrompt>;
  readonly resources: readonly VirtualResources[];
}

export interface FederationPlan {
  readonly api: string;
  /** Member servers in a fixed order: the order of merged lists. */
  readonly members: readonly string[];
  readonly namespace: NamespaceData;
  readonly onUpstreamFailure: 'omit' | 'fail';
  /** Present for a virtual server: exactly this is exposed. */
  readonly virtual: VirtualSelection | undefined;
}

/** Whether an API puts several servers (or a selection) behind one endpoint. */
export function isFederated(api: ApiData): boolean {
  return api.server === undefined;
}

/**
 * The name of an API's connector in the gateway's map: the server's own name for a single-server
 * API, `@<api>` for a federated one (no server name starts with "@").
 */
export function connectorName(api: ApiData): string {
  return api.server ?? `@${api.name}`;
}

/** Every server an API uses, in order, each once. */
export function serversOf(api: ApiData): string[] {
  if (api.server !== undefined) return [api.server];
  if (api.servers) return [...new Set(api.servers)];
  const out: string[] = [];
  for (const item of [...(api.tools ?? []), ...(api.prompts ?? []), ...(api.resources ?? [])]) if (!out.includes(item.server)) out.push(item.server);
  return out;
}

const DEFAULT_NAMESPACE: NamespaceData = Object.freeze({ prefix: 'always', separator: '__' });

export function compileFederationPlan(api: ApiData): FederationPlan {
  const virtual = api.servers ? undefined : compileSelection(api);
  return Object.freeze({
    api: api.name,
    members: Object.freeze(serversOf(api)),
    namespace: api.namespace ?? DEFAULT_NAMESPACE,
    onUpstreamFailure: api.onUpstreamFailure ?? 'omit',
    virtual,
  });
}

function compileSelection(api: ApiData): VirtualSelection {
  const tools = new Map<string, VirtualTool>();
  for (const t of api.tools ?? []) {
    const name = t.as ?? t.name;
    tools.set(name, {
      server: t.server,
      original: t.name,
      name,
      description: t.description,
      annotations: t.annotations,
      fixed: t.arguments?.fixed ?? {},
      defaults: t.arguments?.defaults ?? {},
    });
  }
  const prompts = new Map<string, VirtualPrompt>();
  for (const p of api.prompts ?? []) prompts.set(p.as ?? p.name, { server: p.server, original: p.name, name: p.as ?? p.name, description: p.description });
  const resources = (api.resources ?? []).map((r) => ({ server: r.server, glob: r.uri, match: globToRegExp(r.uri) }));
  return { tools, prompts, resources };
}
