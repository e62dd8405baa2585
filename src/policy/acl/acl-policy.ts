// The ACL policy: decides every client request against the rules, answers hidden items as
// missing ones, filters every list page, drops resource updates for hidden URIs, and trims the
// capabilities the agent sees to what it may use.
import type { Policy, PolicyContext, RequestDecision } from '../policy.ts';
import { ALLOW } from '../policy.ts';
import { isObject, isRequest, isResponse, type JsonObject, type JsonRpcMessage, type JsonRpcRequest } from '../../mcp/jsonrpc.ts';
import type { ConditionContext } from './condition.ts';
import { CompiledAcl, type Decision } from './rules.ts';
import type { AclConfig } from './schema.ts';
import * as hidden from './hidden.ts';
import { isAmbiguousUri } from './uri.ts';

/** Requests every agent may make once connected: they touch no tool, resource or prompt. */
const OPEN_METHODS = new Set(['initialize', 'ping', 'logging/setLevel', 'resources/unsubscribe']);
const LIST_METHODS = new Set(['tools/list', 'resources/list', 'resources/templates/list', 'prompts/list']);
const TASK_METHODS = new Set(['tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel']);
const LIST_CAPABILITIES = ['tools', 'resources', 'prompts'] as const;

interface ListShape {
  readonly field: string;
  readonly key: string;
}
const LISTS: Record<string, ListShape> = {
  'tools/list': { field: 'tools', key: 'name' },
  'resources/list': { field: 'resources', key: 'uri' },
  'resources/templates/list': { field: 'resourceTemplates', key: 'uriTemplate' },
  'prompts/list': { field: 'prompts', key: 'name' },
};

export class AclPolicy implements Policy {
  readonly name = 'acl';
  private readonly acl: CompiledAcl;

  constructor(config: AclConfig) {
    this.acl = new CompiledAcl(config);
  }

  onRequest(ctx: PolicyContext, message: JsonRpcMessage): RequestDecision {
    if (!isRequest(message)) return ALLOW; // notifications and answers to server requests stay open
    const { method, id } = message;
    const params: JsonObject = isObject(message.params) ? message.params : {};
    if (OPEN_METHODS.has(method) || LIST_METHODS.has(method)) return ALLOW;
    switch (method) {
      case 'tools/call': {
        const name = stringParam(params, 'name');
        const args = isObject(params.arguments) ? params.arguments : {};
        const decision = this.decide(ctx, method, name, { name, arguments: args }, args);
        if (decision.allowed) return ALLOW;
        if (decision.invalidArguments) return respond(hidden.invalidArguments(id, name, decision.invalidArguments));
        return respond(hidden.unknownTool(id, name));
      }
      case 'prompts/get': {
        const name = stringParam(params, 'name');
        const args = isObject(params.arguments) ? params.arguments : {};
        return this.decide(ctx, method, name, { name, arguments: args }).allowed ? ALLOW : respond(hidden.unknownPrompt(id, name));
      }
      case 'resources/read':
      case 'resources/subscribe': {
        const uri = stringParam(params, 'uri');
        const allowed = !isAmbiguousUri(uri) && this.decide(ctx, method, uri, { uri }).allowed;
        return allowed ? ALLOW : respond(hidden.unknownResource(id, uri));
      }
      case 'completion/complete':
        return this.completion(ctx, message, params);
      default:
        if (TASK_METHODS.has(method) && this.acl.grantable.has('tools/call')) {
          // Tasks live in this agent's own upstream session (never shared between agents), and
          // only calls the ACL allowed can have created them.
          return ALLOW;
        }
        this.record(ctx, method, undefined, { allowed: false, rule: undefined }, 'method not covered by the ACL');
        return respond(hidden.methodNotFound(id));
    }
  }

  onResponse(ctx: PolicyContext, message: JsonRpcMessage, request: JsonRpcRequest | undefined): JsonRpcMessage | undefined {
    if (isResponse(message)) {
      if (!request || !isObject(message.result)) return message;
      if (request.method === 'initialize') return this.trimCapabilities(message, message.result);
      const shape = LISTS[request.method];
      if (!shape) return message;
      const items = message.result[shape.field];
      if (!Array.isArray(items)) return message;
      const visible = items.filter((item) => {
        if (!isObject(item) || typeof item[shape.key] !== 'string') return false;
        const key = item[shape.key] as string;
        const mcp = shape.key === 'name' ? { name: key } : { uri: key };
        return !(shape.key === 'uri' && isAmbiguousUri(key)) && this.decide(ctx, request.method, key, mcp, undefined, false).allowed;
      });
      return { ...message, result: { ...message.result, [shape.field]: visible } };
    }
    if (!isRequest(message) && 'method' in message && message.method === 'notifications/resources/updated') {
      const uri = isObject(message.params) && typeof message.params.uri === 'string' ? message.params.uri : '';
      const visible = !isAmbiguousUri(uri) && (this.decide(ctx, 'resources/read', uri, { uri }, undefined, false).allowed || this.decide(ctx, 'resources/subscribe', uri, { uri }, undefined, false).allowed);
      return visible ? message : undefined;
    }
    return message;
  }

  private completion(ctx: PolicyContext, message: JsonRpcRequest, params: JsonObject): RequestDecision {
    const ref = isObject(params.ref) ? params.ref : {};
    if (ref.type === 'ref/prompt') {
      const name = typeof ref.name === 'string' ? ref.name : '';
      return this.decide(ctx, 'prompts/get', name, { name }).allowed ? ALLOW : respond(hidden.unknownPrompt(message.id, name));
    }
    const uri = typeof ref.uri === 'string' ? ref.uri : '';
    const visible = !isAmbiguousUri(uri) && (this.decide(ctx, 'resources/templates/list', uri, { uri }).allowed || this.decide(ctx, 'resources/read', uri, { uri }).allowed);
    return visible ? ALLOW : respond(hidden.unknownResourceTemplate(message.id, uri));
  }

  /** Capabilities for features the agent can use nothing of are removed from what it sees. */
  private trimCapabilities(message: JsonRpcMessage, result: JsonObject): JsonRpcMessage {
    if (!isObject(result.capabilities)) return message;
    const capabilities = { ...result.capabilities };
    const grants = this.acl.grantable;
    if (!grants.has('tools/list') && !grants.has('tools/call')) delete capabilities.tools;
    if (![...grants].some((m) => m.startsWith('resources/'))) delete capabilities.resources;
    if (!grants.has('prompts/list') && !grants.has('prompts/get')) delete capabilities.prompts;
    if (!grants.has('prompts/get') && !grants.has('resources/templates/list') && !grants.has('resources/read')) delete capabilities.completions;
    if (!grants.has('tools/call')) delete capabilities.tasks;
    // A reload may change what this agent sees; Gatehouse then says so (gateway.ts), so clients
    // that listen only when the server promises it should.
    for (const kind of LIST_CAPABILITIES) if (isObject(capabilities[kind])) capabilities[kind] = { ...capabilities[kind], listChanged: true };
    return { ...message, result: { ...result, capabilities } } as JsonRpcMessage;
  }

  private decide(
    ctx: PolicyContext,
    method: string,
    name: string,
    mcp: { name?: string; uri?: string; arguments?: Readonly<Record<string, unknown>> },
    args?: Readonly<Record<string, unknown>>,
    trace = true,
  ): Decision {
    const decision = this.acl.decide(method, name, conditionContext(ctx, method, mcp), args);
    if (trace) this.record(ctx, method, name, decision);
    return decision;
  }

  private record(ctx: PolicyContext, method: string, name: string | undefined, decision: Decision, reason?: string): void {
    const why = reason ?? (decision.invalidArguments ? `invalid arguments: ${decision.invalidArguments}` : decision.rule ? undefined : 'no rule allows it');
    ctx.trace.push({ policy: 'acl', method, name, allowed: decision.allowed, rule: decision.rule, reason: why });
    if (ctx.log.isLevelEnabled('debug')) {
      ctx.log.debug({ acl: { method, name, allowed: decision.allowed, rule: decision.rule ?? null, reason: why ?? null }, agent: ctx.principal.id }, 'acl decision');
    }
  }
}

function respond(response: ReturnType<typeof hidden.unknownTool>): RequestDecision {
  return { action: 'respond', response };
}

function stringParam(params: JsonObject, key: string): string {
  const value = params[key];
  return typeof value === 'string' ? value : '';
}

/**
 * The CEL context of one decision (see docs/policies.md). Every field the context declares is
 * present, "" when the principal or the message has none (CEL's value for an unset field): a
 * condition that type-checked at load cannot then fail on a missing field, which would make a
 * deny rule such as `agent.tenant != "acme"` skip agents without a tenant.
 */
export function conditionContext(
  ctx: PolicyContext,
  method: string,
  mcp: { name?: string; uri?: string; arguments?: Readonly<Record<string, unknown>> },
): ConditionContext {
  const p = ctx.principal;
  return {
    agent: { id: p.id, kind: p.kind, name: p.name ?? '', labels: p.labels ?? NO_LABELS, tenant: p.tenant ?? '' },
    user: { id: p.user?.id ?? '', name: p.user?.name ?? '' },
    claims: p.claims ?? NO_CLAIMS,
    request: { headers: ctx.request.headers, address: ctx.request.remoteAddress ?? '' },
    mcp: { method, name: mcp.name ?? '', uri: mcp.uri ?? '', arguments: mcp.arguments ?? NO_ARGUMENTS },
    now: new Date(),
  };
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});
const NO_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({});
