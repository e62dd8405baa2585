// "What would this agent see?": POST /api/v1/apis/{name}/simulate. Lists every tool, prompt,
// resource and resource template of the API's servers (simulate-lists.ts), names them as the
// agent would see them (a federated API's namespace, a virtual server's selection), and decides
// each method for each item with the policy engine itself: the ACL rules compiled by CompiledAcl
// with the condition context the gateway builds (acl-policy.ts), as `gatehouse acl explain` does.
// The draft is simulated by default, so an operator sees a silent deny-all before deploying it.
import type { ConfigData, ApiData } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { Principal } from '../auth/principal.ts';
import type { PolicyContext } from '../policy/policy.ts';
import type { AclConfig } from '../policy/acl/schema.ts';
import { CompiledAcl, type Decision } from '../policy/acl/rules.ts';
import { conditionContext } from '../policy/acl/acl-policy.ts';
import { checkUri, checkUriTemplate } from '../policy/acl/uri.ts';
import { compileFederationPlan, serversOf, type FederationPlan } from '../upstream/federation/plan.ts';
import { buildNameTable, type Target } from '../upstream/federation/naming.ts';
import { createLogger } from '../log.ts';
import type { Deployments } from './deployments.ts';
import { badRequest, notFound } from './errors.ts';
import { sees } from './tenant-scope.ts';
import { jsonBody, methodNotAllowed, reply, type Call } from './http.ts';
import { listServer, type ServerLists } from './simulate-lists.ts';

import { SIMULATED_METHODS, type Kind, type SimulatedItem, type Simulation, type Verdict } from './simulate-types.ts';

export { SIMULATED_METHODS, type Simulation, type SimulatedItem, type Verdict };

const SILENT = createLogger('silent');

export async function simulateResource(call: Call, deployments: Deployments, store: Store, apiName: string): Promise<void> {
  if (call.method !== 'POST') methodNotAllowed(call, 'POST');
  const body = await jsonBody(call);
  const agent = body.agent;
  if (typeof agent !== 'string' || agent.trim() === '') throw badRequest('agent: expected the id of an agent (a string)', [{ field: 'agent', message: 'expected the id of an agent (a string)' }]);
  const source = body.source ?? 'draft';
  if (source !== 'draft' && source !== 'deployed') throw badRequest('source: expected "draft" or "deployed"', [{ field: 'source', message: 'expected "draft" or "deployed"' }]);
  const user = userOf(body.user);
  const { config, version } = await configOf(deployments, source);
  const api = config.apis.find((a) => a.name === apiName);
  if (!api || !sees(call, api.tenant)) throw notFound(`API "${apiName}" in the ${source === 'draft' ? 'draft' : `deployed version ${version}`}`);
  const principal = await principalOf(agent.trim(), user, config, store, call.tenant);
  const lists = await Promise.all(serversOf(api).map((name) => listServer(name, config.servers[name]!)));
  return reply(call, 200, simulate(api, lists, principal.principal, { source, version, known: principal.known }));
}

function userOf(value: unknown): { id: string; name?: string } | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return { id: value };
  if (typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
    const { id, name } = value as { id: string; name?: unknown };
    return typeof name === 'string' ? { id, name } : { id };
  }
  throw badRequest('user: expected a user id, or {"id": …, "name": …}', [{ field: 'user', message: 'expected a user id, or {"id": …, "name": …}' }]);
}

async function configOf(deployments: Deployments, source: 'draft' | 'deployed'): Promise<{ config: ConfigData; version: number | null }> {
  if (source === 'draft') return { config: deployments.snapshot((await deployments.draft()).document, 'draft'), version: null };
  const latest = await deployments.latest();
  if (!latest) throw notFound('a deployed version (nothing is deployed yet; simulate the draft)');
  return { config: deployments.snapshot(latest.document, `version ${latest.version}`), version: latest.version };
}

/** The agent as the gateway would know it: its name, labels and tenant from the store or the document. */
async function principalOf(id: string, user: { id: string; name?: string } | undefined, config: ConfigData, store: Store, tenant: string | undefined): Promise<{ principal: Principal; known: boolean }> {
  const found = (await store.getAgent(id)) ?? config.agents.find((a) => a.id === id);
  // For a tenant's admin another tenant's agent is an unknown one: its name and labels stay hidden.
  const record = found !== undefined && sees({ tenant }, found.tenant) ? found : undefined;
  const principal: Principal = { kind: 'agent', id, key: `agent:${id}`, plan: 'simulation', labels: record?.labels ?? {} };
  if (record?.name !== undefined) principal.name = record.name;
  if (record?.tenant !== undefined) principal.tenant = record.tenant;
  if (user) principal.user = user;
  return { principal, known: record !== undefined };
}

export function simulate(api: ApiData, lists: readonly ServerLists[], principal: Principal, meta: { source: 'draft' | 'deployed'; version: number | null; known: boolean }): Simulation {
  const acls = api.policies.flatMap((p) => ('acl' in p ? [p.acl] : []));
  const items = itemsOf(api, lists);
  const decide = decider(api, acls, principal, items);
  const notes = ['Conditions that read the request or its arguments see an empty request here (no headers, no address, no arguments); `now` is the time of the simulation.'];
  if (acls.length === 0) notes.unshift('This API has no ACL: every agent may use everything.');
  if (api.policies.some((p) => 'rateLimit' in p)) notes.push('Rate limits are not simulated.');
  if (api.policies.some((p) => 'pinning' in p)) notes.push('Tool pinning is not simulated: every tool is judged as if its definition were approved.');
  return {
    api: api.name,
    source: meta.source,
    version: meta.version,
    agent: { id: principal.id, known: meta.known, name: principal.name ?? null, labels: { ...(principal.labels ?? {}) } },
    user: principal.user ? { id: principal.user.id, name: principal.user.name ?? null } : null,
    acls: acls.length,
    servers: lists.map((l) => ({ server: l.server, error: l.error ?? null })),
    items: items.map((item) => ({ ...item, methods: SIMULATED_METHODS[item.kind].map((method) => decide(item, method)) })),
    notes,
  };
}

type Item = Omit<SimulatedItem, 'methods'>;

/** Every item as the agent would see it named. */
function itemsOf(api: ApiData, lists: readonly ServerLists[]): Item[] {
  const resources = (l: ServerLists): Item[] => [
    ...l.resources.map((uri) => ({ kind: 'resource' as const, name: uri, server: l.server, original: uri })),
    ...l.resourceTemplates.map((uri) => ({ kind: 'resourceTemplate' as const, name: uri, server: l.server, original: uri })),
  ];
  if (api.server !== undefined) {
    return lists.flatMap((l) => [
      ...l.tools.map((name) => ({ kind: 'tool' as const, name, server: l.server, original: name })),
      ...l.prompts.map((name) => ({ kind: 'prompt' as const, name, server: l.server, original: name })),
      ...resources(l),
    ]);
  }
  const plan = compileFederationPlan(api);
  if (plan.virtual) {
    const offered = (server: string, kind: 'tools' | 'prompts', original: string) => lists.find((l) => l.server === server)?.[kind].includes(original) ?? false;
    return [
      ...[...plan.virtual.tools.values()].filter((t) => offered(t.server, 'tools', t.original)).map((t) => ({ kind: 'tool' as const, name: t.name, server: t.server, original: t.original })),
      ...[...plan.virtual.prompts.values()].filter((p) => offered(p.server, 'prompts', p.original)).map((p) => ({ kind: 'prompt' as const, name: p.name, server: p.server, original: p.original })),
      ...lists.flatMap((l) => resources(l).filter((r) => plan.virtual!.resources.some((sel) => sel.server === l.server && sel.match.test(r.name)))),
    ];
  }
  const named = (kind: 'tools' | 'prompts', as: 'tool' | 'prompt'): Item[] =>
    [...buildNameTable(plan, lists.map((l) => [l.server, l[kind]] as const)).byName.entries()].map(([name, target]) => ({ kind: as, name, server: target.server, original: target.original }));
  return [...named('tools', 'tool'), ...named('prompts', 'prompt'), ...lists.flatMap(resources)];
}

/** Decides one method for one item through every ACL of the chain: the first refusal wins. */
function decider(api: ApiData, acls: readonly AclConfig[], principal: Principal, items: readonly Item[]): (item: Item, method: string) => Verdict {
  const compiled = acls.map((acl) => new CompiledAcl(acl));
  const plan: FederationPlan | undefined = api.server === undefined ? compileFederationPlan(api) : undefined;
  const owners = new Map(items.map((i) => [`${i.kind === 'tool' ? 'tools' : i.kind === 'prompt' ? 'prompts' : 'resources'}\n${i.name}`, { server: i.server, original: i.original } satisfies Target]));
  const ctx: PolicyContext = {
    api: api.name,
    server: api.server ?? '',
    targetOf: plan ? (kind, name) => owners.get(`${kind}\n${name}`) : undefined,
    principal,
    protocolVersion: '2025-11-25',
    sessionId: undefined,
    request: { headers: {}, remoteAddress: undefined },
    log: SILENT,
    trace: [],
  };
  const label = (index: number, rule: string | undefined) => (rule === undefined ? null : compiled.length > 1 ? `acl #${index + 1}: ${rule}` : rule);
  return (item, method) => {
    if (compiled.length === 0) return { method, allowed: true, rule: null, reason: 'no ACL on this API' };
    const byUri = item.kind === 'resource' || item.kind === 'resourceTemplate';
    if (byUri) {
      // The gateway neither shows nor accepts a URI that is not in canonical form, whatever the rules say.
      const check = item.kind === 'resource' ? checkUri(item.name) : checkUriTemplate(item.name);
      if (!check.ok) return { method, allowed: false, rule: null, reason: `resource URI ${check.reason}` };
    }
    const mcp = byUri ? { uri: item.name } : { name: item.name };
    let allowedBy: string | null = null;
    for (const [index, acl] of compiled.entries()) {
      const decision: Decision = acl.decide(method, item.name, conditionContext(ctx, method, mcp));
      if (!decision.allowed) {
        const reason = decision.conditionFailed ? 'the deny rule\'s condition failed (deny rules fail closed)' : decision.rule === undefined ? 'no rule allows it' : undefined;
        return reason === undefined ? { method, allowed: false, rule: label(index, decision.rule) } : { method, allowed: false, rule: label(index, decision.rule), reason };
      }
      allowedBy = label(index, decision.rule);
    }
    return { method, allowed: true, rule: allowedBy };
  };
}
