// "What would this agent see?": POST /api/v1/apis/{name}/simulate. Lists every tool, prompt,
// resource and resource template of the API's servers (simulate-lists.ts), names them as the
// agent would see them (a federated API's namespace, a virtual server's selection), and decides
// each method for each item with the policy engine itself: the ACL rules compiled by CompiledAcl
// with the condition context the gateway builds (acl-policy.ts), as `gatehouse acl explain` does.
// The draft is simulated by default, so an operator sees a silent deny-all before deploying it.
// A user (with token claims) and one tool call's arguments may be given, so conditions on
// `claims.…` and `mcp.arguments` and a rule's argument checks are decided too (simulate-input.ts).
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
import { ManagementError, notFound } from './errors.ts';
import { sees } from './tenant-scope.ts';
import { jsonBody, methodNotAllowed, reply, type Call } from './http.ts';
import { listServer, type ServerLists } from './simulate-lists.ts';
import { parseSimulateInput, principalOf, type SimulateInput } from './simulate-input.ts';

import { SIMULATED_METHODS, type Kind, type SimulatedItem, type Simulation, type Verdict } from './simulate-types.ts';

export { SIMULATED_METHODS, type Simulation, type SimulatedItem, type Verdict };

const SILENT = createLogger('silent');

export async function simulateResource(call: Call, deployments: Deployments, store: Store, apiName: string): Promise<void> {
  if (call.method !== 'POST') methodNotAllowed(call, 'POST');
  const input = parseSimulateInput(await jsonBody(call));
  const { config, version } = await configOf(deployments, input.source);
  const api = config.apis.find((a) => a.name === apiName);
  if (!api || !sees(call, api.tenant)) throw notFound(`API "${apiName}" in the ${input.source === 'draft' ? 'draft' : `deployed version ${version}`}`);
  const principal = await principalOf(input, config, store, call);
  const lists = await Promise.all(serversOf(api).map((name) => listServer(name, config.servers[name]!)));
  const simulation = simulate(api, lists, principal, { source: input.source, version, known: !input.agent.described, userKnown: input.user !== undefined && !input.user.described, call: input.call });
  if (input.call && simulation.call === null) {
    const unlisted = lists.filter((l) => l.error !== undefined).map((l) => l.server);
    throw new ManagementError(404, `tool "${input.call.tool}" not found: no server of API "${api.name}" lists it${unlisted.length > 0 ? ` (not listed: ${unlisted.join(', ')})` : ''}; name it as the API's agents see it`);
  }
  return reply(call, 200, simulation);
}

async function configOf(deployments: Deployments, source: 'draft' | 'deployed'): Promise<{ config: ConfigData; version: number | null }> {
  if (source === 'draft') return { config: deployments.snapshot((await deployments.draft()).document, 'draft'), version: null };
  const latest = await deployments.latest();
  if (!latest) throw notFound('a deployed version (nothing is deployed yet; simulate the draft)');
  return { config: deployments.snapshot(latest.document, `version ${latest.version}`), version: latest.version };
}

interface Meta {
  readonly source: 'draft' | 'deployed';
  readonly version: number | null;
  /** The agent was read from the store (not described in the request). */
  readonly known: boolean;
  readonly userKnown?: boolean;
  readonly call?: SimulateInput['call'];
}

export function simulate(api: ApiData, lists: readonly ServerLists[], principal: Principal, meta: Meta): Simulation {
  const acls = api.policies.flatMap((p) => ('acl' in p ? [p.acl] : []));
  const items = itemsOf(api, lists);
  const decide = decider(api, acls, principal, items);
  const call = meta.call;
  const target = call ? items.find((i) => i.kind === 'tool' && i.name === call.tool) : undefined;
  const notes = [
    call
      ? `Conditions that read the request see an empty one here (no headers, no address); \`mcp.arguments\` is the given arguments for tools/call of ${call.tool}, and empty everywhere else; \`now\` is the time of the simulation.`
      : 'Conditions that read the request or its arguments see an empty request here (no headers, no address, no arguments; give a tool and its arguments to decide a call); `now` is the time of the simulation.',
  ];
  if (acls.length === 0) notes.unshift('This API has no ACL: every agent may use everything.');
  if (api.policies.some((p) => 'rateLimit' in p)) notes.push('Rate limits are not simulated.');
  if (api.policies.some((p) => 'pinning' in p)) notes.push('Tool pinning is not simulated: every tool is judged as if its definition were approved.');
  return {
    api: api.name,
    source: meta.source,
    version: meta.version,
    agent: { id: principal.id, known: meta.known, name: principal.name ?? null, labels: { ...(principal.labels ?? {}) } },
    user: principal.user ? { id: principal.user.id, name: principal.user.name ?? null, known: meta.userKnown ?? false } : null,
    claims: { ...(principal.claims ?? {}) },
    call: call && target ? { tool: call.tool, arguments: { ...call.arguments }, verdict: decide(target, 'tools/call', call.arguments) } : null,
    acls: acls.length,
    servers: lists.map((l) => ({ server: l.server, error: l.error ?? null })),
    items: items.map((item) => ({ ...item, methods: SIMULATED_METHODS[item.kind].map((method) => decide(item, method, item === target && method === 'tools/call' ? call!.arguments : undefined)) })),
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
function decider(api: ApiData, acls: readonly AclConfig[], principal: Principal, items: readonly Item[]): (item: Item, method: string, args?: Readonly<Record<string, unknown>>) => Verdict {
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
  return (item, method, args) => {
    if (compiled.length === 0) return { method, allowed: true, rule: null, reason: 'no ACL on this API' };
    const byUri = item.kind === 'resource' || item.kind === 'resourceTemplate';
    if (byUri) {
      // The gateway neither shows nor accepts a URI that is not in canonical form, whatever the rules say.
      const check = item.kind === 'resource' ? checkUri(item.name) : checkUriTemplate(item.name);
      if (!check.ok) return { method, allowed: false, rule: null, reason: `resource URI ${check.reason}` };
    }
    // With arguments, as the gateway decides a tools/call: conditions read them, and a rule's argument checks apply.
    const mcp = byUri ? { uri: item.name } : args ? { name: item.name, arguments: args } : { name: item.name };
    let allowedBy: string | null = null;
    for (const [index, acl] of compiled.entries()) {
      const decision: Decision = acl.decide(method, item.name, conditionContext(ctx, method, mcp), args);
      if (!decision.allowed) {
        const reason = decision.invalidArguments
          ? `invalid arguments: ${decision.invalidArguments}`
          : decision.conditionFailed
            ? 'the deny rule\'s condition failed (deny rules fail closed)'
            : decision.rule === undefined
              ? compiled.length > 1
                ? `no rule of acl #${index + 1} allows it`
                : 'no rule allows it'
              : undefined;
        return reason === undefined ? { method, allowed: false, rule: label(index, decision.rule) } : { method, allowed: false, rule: label(index, decision.rule), reason };
      }
      allowedBy = label(index, decision.rule);
    }
    return { method, allowed: true, rule: allowedBy };
  };
}
