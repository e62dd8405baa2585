// The pinning policy: every tools/list answer that passes is recorded per server (hash of each
// tool's definition, src/policy/pinning/registry.ts) and, under enforce or approve-new, loses the
// tools whose definition is not the approved one; a call of such a tool is answered exactly as an
// unknown tool's (src/mcp/missing.ts, as the ACL answers a hidden one). Both eras and every
// transport pass here: the chain runs on the bridged and federated paths too.
import type { Policy, PolicyContext, RequestDecision } from '../policy.ts';
import { ALLOW } from '../policy.ts';
import { isObject, isRequest, isResponse, type JsonObject, type JsonRpcMessage, type JsonRpcRequest } from '../../mcp/jsonrpc.ts';
import { unknownTool } from '../../mcp/missing.ts';
import type { FirstUseTrust, SeenTool } from '../../store/store.ts';
import type { Logger } from '../../log.ts';
import { pinnedDefinition } from './definition.ts';
import type { DefinitionChange, PinningRegistry } from './registry.ts';
import type { PinningConfig, PinningMode } from './schema.ts';
import { SignedWebhook } from '../webhook.ts';

interface ServerRule {
  readonly mode: PinningMode;
  readonly trust: FirstUseTrust;
}

export class PinningPolicy implements Policy {
  readonly name = 'pinning';
  /** Lists depend on what the store holds (approvals), not only on the answer. */
  readonly stableResponses = false;
  private readonly rules = new Map<string, ServerRule>();
  private readonly defaultRule: ServerRule;
  private readonly webhook: SignedWebhook | undefined;

  constructor(
    private readonly config: PinningConfig,
    private readonly registry: PinningRegistry,
    log: Logger,
  ) {
    this.defaultRule = rule(config.mode, config.firstUse);
    for (const [server, override] of Object.entries(config.servers)) this.rules.set(server, rule(override.mode ?? config.mode, override.firstUse ?? config.firstUse));
    this.webhook = config.webhook && new SignedWebhook(config.webhook, log, 'pinning');
  }

  private ruleOf(server: string): ServerRule {
    return this.rules.get(server) ?? this.defaultRule;
  }

  onRequest(ctx: PolicyContext, message: JsonRpcMessage): RequestDecision | Promise<RequestDecision> {
    if (!isRequest(message) || message.method !== 'tools/call') return ALLOW;
    const name = isObject(message.params) && typeof message.params.name === 'string' ? message.params.name : '';
    const target = targetOf(ctx, name);
    // No server offers it: the federation answers it as unknown itself.
    if (target === undefined || this.ruleOf(target.server).mode === 'observe') return ALLOW;
    const callable = this.registry.callable(target.server, target.original);
    const decide = (ok: boolean): RequestDecision => {
      if (ok) return ALLOW;
      ctx.trace.push({ policy: 'pinning', method: 'tools/call', name, allowed: false, reason: 'the tool\'s definition is not approved', server: target.server, originalName: target.original });
      return { action: 'respond', response: unknownTool(message.id, name) };
    };
    return typeof callable === 'boolean' ? decide(callable) : callable.then(decide);
  }

  onResponse(ctx: PolicyContext, message: JsonRpcMessage, _request: JsonRpcRequest | undefined): JsonRpcMessage | undefined {
    // Lists are recognized by the result's shape, as the ACL does: no other MCP result has `tools`.
    if (!isResponse(message) || !isObject(message.result) || !Array.isArray(message.result.tools)) return message;
    const result = message.result;
    const items = result.tools as unknown[];
    const byServer = new Map<string, { seen: SeenTool[]; names: Map<string, string> }>();
    const placed: Array<{ server: string; original: string } | undefined> = [];
    for (const item of items) {
      const name = isObject(item) && typeof item.name === 'string' ? item.name : undefined;
      const target = name === undefined ? undefined : targetOf(ctx, name);
      placed.push(target);
      if (target === undefined) continue;
      let group = byServer.get(target.server);
      if (!group) byServer.set(target.server, (group = { seen: [], names: new Map() }));
      const definition = pinnedDefinition(item as JsonObject, target.original);
      group.seen.push({ tool: target.original, hash: definition.hash, definition: definition.text });
    }
    const approvedByServer = new Map<string, Set<string>>();
    for (const [server, group] of byServer) {
      const rule = this.ruleOf(server);
      const approved = this.registry.seenList(server, group.seen, rule.trust, { api: ctx.api, agent: ctx.principal.id, mode: rule.mode }, this.webhook && ((change) => this.notify(change)));
      if (rule.mode !== 'observe') approvedByServer.set(server, approved);
    }
    if (approvedByServer.size === 0) return message;
    const shown = items.filter((_, i) => {
      const target = placed[i];
      if (target === undefined) return true;
      const approved = approvedByServer.get(target.server);
      return approved === undefined || approved.has(target.original);
    });
    if (shown.length === items.length) return message;
    const filtered: JsonObject = { ...result, tools: shown as JsonObject[] };
    // What is shown depends on approvals that change: no shared cache may keep this answer.
    if (filtered.cacheScope === 'public') filtered.cacheScope = 'private';
    return { ...message, result: filtered };
  }

  private notify(change: DefinitionChange): void {
    this.webhook?.send({
      event: 'tool_definition_changed',
      server: change.server,
      tool: change.tool,
      oldHash: change.oldHash,
      newHash: change.newHash,
      approved: change.approved,
      mode: change.origin.mode,
      api: change.origin.api,
      at: new Date(change.at).toISOString(),
    });
  }
}

function rule(mode: PinningMode, firstUse: PinningConfig['firstUse']): ServerRule {
  return { mode, trust: firstUse === 'approve' ? 'never' : mode === 'approve-new' ? 'server' : 'tool' };
}

/** The server and the tool's name there: the API's server, or the federated member behind the name. */
function targetOf(ctx: PolicyContext, name: string): { readonly server: string; readonly original: string } | undefined {
  if (ctx.targetOf) return ctx.targetOf('tools', name);
  return ctx.server === '' ? undefined : { server: ctx.server, original: name };
}
