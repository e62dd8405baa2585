// Which lists (tools, resources, prompts) of which APIs may look different to some client after
// a reload: what a reload must announce with notifications/*/list_changed. Told cheaply from the
// two configs; saying a list changed when it did not costs a client one list request, missing
// one leaves it showing what it may no longer use (or hiding what it now may).
import type { ApiData, ConfigData } from './schema.ts';
import { LIST_KINDS, type ListKind } from '../mcp/list-changed.ts';
import { serversOf } from '../upstream/federation/plan.ts';

/** For each API present in both configs, the kinds whose visible list may have changed. */
export function changedLists(before: ConfigData, after: ConfigData): Map<string, ListKind[]> {
  const out = new Map<string, ListKind[]>();
  const previous = new Map(before.apis.map((api) => [api.name, api]));
  for (const api of after.apis) {
    const old = previous.get(api.name);
    if (!old) continue; // a new API has no sessions yet
    const kinds = LIST_KINDS.filter((kind) => view(before, old, kind) !== view(after, api, kind));
    if (kinds.length > 0) out.set(api.name, kinds);
  }
  return out;
}

/**
 * Everything that decides what an API's clients see of one kind: the server behind it and its
 * definition, the ACL rules naming that kind (effect, condition, methods, pattern; argument
 * constraints hide nothing), the pinning policy's modes (tools), and, when a rule has a condition, what the principal is made of
 * (the API's auth plans and the agents of the file: names, labels, tenants).
 */
function view(config: ConfigData, api: ApiData, kind: ListKind): string {
  const acls: unknown[] = [];
  let conditional = false;
  for (const policy of api.policies) {
    // Tool pinning's modes decide which tools are shown (the webhook does not).
    if ('pinning' in policy) {
      if (kind === 'tools') acls.push(['pinning', policy.pinning.mode, policy.pinning.firstUse, policy.pinning.servers]);
      continue;
    }
    if (!('acl' in policy)) continue;
    const rules: unknown[] = [];
    for (const rule of policy.acl.rules) {
      const features = rule.features.filter((f) => f.type === kind).map((f) => [f.methods, f.pattern]);
      if (features.length === 0) continue;
      if (rule.condition !== undefined) conditional = true;
      rules.push([rule.effect, rule.condition ?? null, features]);
    }
    acls.push(rules);
  }
  const principal = conditional ? [api.auth, config.agents] : null;
  const servers = serversOf(api).map((name) => [name, config.servers[name] ?? null]);
  const selection = api.server === undefined ? [api.servers ?? null, api.namespace ?? null, api.tools ?? null, api.prompts ?? null, api.resources ?? null] : null;
  return JSON.stringify([servers, selection, acls, principal]);
}
