// The ACL policy: decides every client request against the rules, answers hidden items as
// missing ones, refuses resource URIs not in canonical form, filters every list in server
// answers, drops resource updates for hidden URIs, and trims the capabilities the agent sees to
// what it may use.
import { NO_ANNOTATIONS, TrustedAnnotations } from '../annotations/trusted.ts';
import type { Policy, PolicyContext, RequestDecision } from '../policy.ts';
import { ALLOW } from '../policy.ts';
import { GatehouseError } from '../../errors.ts';
import { isNotification, isObject, isRequest, isResponse, type JsonObject, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest } from '../../mcp/jsonrpc.ts';
import type { ConditionContext } from './condition.ts';
import { CompiledAcl, type Decision } from './rules.ts';
import type { AclConfig } from './schema.ts';
import * as hidden from './hidden.ts';
import { checkUri, checkUriTemplate, type UriCheck } from './uri.ts';
import { isStateless } from '../../mcp/versions.ts';

/** Requests every agent may make once connected: they touch no tool, resource or prompt. */
const OPEN_METHODS = new Set(['initialize', 'server/discover', 'ping', 'logging/setLevel']);
const LIST_METHODS = new Set(['tools/list', 'resources/list', 'resources/templates/list', 'prompts/list']);
// Methods 2026-07-28 removed (subscriptions/listen replaces them): a 2026-07-28 request for one is
// answered as a 2026-07-28 server answers it (-32601, HTTP 404), not as a hidden resource would be.
const REMOVED_IN_STATELESS = new Set(['resources/subscribe', 'resources/unsubscribe']);
const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
const TASK_METHODS = new Set(['tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel', 'tasks/update']);
const LIST_CAPABILITIES = ['tools', 'resources', 'prompts'] as const;

interface ListShape {
  /** The list method whose rules decide what the list shows. */
  readonly method: string;
  /** The result member holding the list, and the item member naming each entry. */
  readonly field: string;
  readonly key: 'name' | 'uri' | 'uriTemplate';
}
/**
 * Lists are recognized by the result's members, not by the request the answer is paired with:
 * an answer is filtered even when it pairs with no request of its exchange (a stream resumed with
 * Last-Event-ID, a request id the upstream confused) or with another one. No other MCP result has
 * these members.
 */
const LISTS: readonly ListShape[] = [
  { method: 'tools/list', field: 'tools', key: 'name' },
  { method: 'resources/list', field: 'resources', key: 'uri' },
  { method: 'resources/templates/list', field: 'resourceTemplates', key: 'uriTemplate' },
  { method: 'prompts/list', field: 'prompts', key: 'name' },
];

const EMPTY_ANNOTATIONS = new TrustedAnnotations({});
/** `mcp.tool` when the decision is not about a tool, or nothing is annotated: every flag false. */
const NO_TOOL = Object.freeze({ annotations: NO_ANNOTATIONS });

export class AclPolicy implements Policy {
  readonly name = 'acl';
  private readonly acl: CompiledAcl;

  /** List filtering and capability trimming read only the principal and the answer, unless a condition reads the request. */
  readonly stableResponses: boolean;

  constructor(
    config: AclConfig,
    /** The operator's tool annotations (`mcp.tool.annotations` in conditions). */
    private readonly annotations: TrustedAnnotations = EMPTY_ANNOTATIONS,
  ) {
    this.acl = new CompiledAcl(config);
    this.stableResponses = !this.acl.readsPerRequest;
  }

  onRequest(ctx: PolicyContext, message: JsonRpcMessage): RequestDecision {
    if (isNotification(message)) return this.notification(ctx, message);
    if (!isRequest(message)) return ALLOW; // answers to server requests (sampling, elicitation, roots)
    const { method, id } = message;
    const params: JsonObject = isObject(message.params) ? message.params : {};
    if (OPEN_METHODS.has(method) || LIST_METHODS.has(method)) return ALLOW;
    if (REMOVED_IN_STATELESS.has(method) && isStateless(ctx.protocolVersion)) return respond(hidden.methodNotFound(id));
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
        const refused = this.refuseNonCanonical(ctx, method, uri, checkUri(uri));
        if (refused) return refused;
        return this.decide(ctx, method, uri, { uri }).allowed ? ALLOW : respond(hidden.unknownResource(id, uri));
      }
      case 'resources/unsubscribe': {
        // Open (it names nothing the agent could not have subscribed to), but spelled canonically.
        const uri = stringParam(params, 'uri');
        return this.refuseNonCanonical(ctx, method, uri, checkUri(uri)) ?? ALLOW;
      }
      case 'subscriptions/listen':
        return this.listen(ctx, message, params);
      case 'completion/complete':
        return this.completion(ctx, message, params);
      default:
        if (TASK_METHODS.has(method) && this.acl.grantable.has('tools/call')) {
          // Tasks live in this agent's own upstream session (never shared between agents; a
          // bridged 2026-07-28 client's task ids are sealed to it), and only calls the ACL
          // allowed can have created them.
          return ALLOW;
        }
        this.record(ctx, method, undefined, { allowed: false, rule: undefined }, 'method not covered by the ACL');
        return respond(hidden.methodNotFound(id));
    }
  }

  onResponse(ctx: PolicyContext, message: JsonRpcMessage, _request: JsonRpcRequest | undefined): JsonRpcMessage | undefined {
    if (isResponse(message)) {
      const result = message.result;
      if (!isObject(result)) return message;
      let filtered: JsonObject | undefined;
      let judged = false;
      for (const shape of LISTS) {
        const items = result[shape.field];
        if (!Array.isArray(items)) continue;
        judged = true;
        const shown = items.filter((item) => this.listed(ctx, shape, item));
        // Nothing hidden: the answer stays the same object, so it is relayed as the server wrote it.
        if (shown.length === items.length) continue;
        filtered ??= { ...result };
        filtered[shape.field] = shown;
      }
      // initialize and server/discover answers.
      if (isObject(result.capabilities)) {
        filtered ??= { ...result };
        filtered.capabilities = this.trimCapabilities(result.capabilities);
        judged = true;
      }
      // 2026-07-28 cache hints: what the ACL judged depends on who asks, so no shared cache may
      // keep it (even when nothing was hidden from this agent, another sees another answer).
      if (judged && result.cacheScope === 'public') {
        filtered ??= { ...result };
        filtered.cacheScope = 'private';
      }
      return filtered ? { ...message, result: filtered } : message;
    }
    if (isNotification(message) && message.method === 'notifications/resources/updated') {
      const uri = isObject(message.params) && typeof message.params.uri === 'string' ? message.params.uri : '';
      const visible = checkUri(uri).ok && (this.decide(ctx, 'resources/read', uri, { uri }, undefined, false).allowed || this.decide(ctx, 'resources/subscribe', uri, { uri }, undefined, false).allowed);
      return visible ? message : undefined;
    }
    return message;
  }

  /** Whether one entry of a list answer is shown. */
  private listed(ctx: PolicyContext, shape: ListShape, item: unknown): boolean {
    if (!isObject(item)) return false;
    const key = item[shape.key];
    if (typeof key !== 'string') return false;
    if (shape.key === 'name') return this.decide(ctx, shape.method, key, { name: key }, undefined, false).allowed;
    const check = shape.key === 'uri' ? checkUri(key) : checkUriTemplate(key);
    // A URI the agent could not send (not canonical) is not shown either.
    return check.ok && this.decide(ctx, shape.method, key, { uri: key }, undefined, false).allowed;
  }

  /**
   * Client notifications pass when they are notifications (`notifications/…`). A request method
   * sent without an id (`tools/call`, `resources/read`) would reach the server undecided.
   */
  private notification(ctx: PolicyContext, message: JsonRpcNotification): RequestDecision {
    if (message.method.startsWith('notifications/')) return ALLOW;
    const reason = 'not a notification method: a request needs an id';
    this.record(ctx, message.method, undefined, { allowed: false, rule: undefined }, reason);
    return {
      action: 'deny',
      error: new GatehouseError('GH_INVALID_REQUEST', `Invalid Request: "${message.method}" sent without an id; only notifications/… methods may be notifications, a request method needs an id`),
    };
  }

  /**
   * 2026-07-28 `subscriptions/listen`: open like ping for list_changed notifications; each URI of
   * `resourceSubscriptions` is decided as a `resources/subscribe` of it.
   */
  private listen(ctx: PolicyContext, message: JsonRpcRequest, params: JsonObject): RequestDecision {
    const filter = isObject(params.notifications) ? params.notifications : {};
    const uris = Array.isArray(filter.resourceSubscriptions) ? filter.resourceSubscriptions : [];
    for (const uri of uris) {
      if (typeof uri !== 'string') continue; // the server refuses a malformed filter
      const refused = this.refuseNonCanonical(ctx, 'resources/subscribe', uri, checkUri(uri));
      if (refused) return refused;
      if (!this.decide(ctx, 'resources/subscribe', uri, { uri }).allowed) return respond(hidden.unknownResource(message.id, uri));
    }
    return ALLOW;
  }

  /** A refusal of a resource URI that is not in canonical form, or undefined when it is. */
  private refuseNonCanonical(ctx: PolicyContext, method: string, uri: string, check: UriCheck): RequestDecision | undefined {
    if (check.ok) return undefined;
    this.record(ctx, method, uri, { allowed: false, rule: undefined }, `resource URI ${check.reason}`);
    const expected = check.canonical === undefined ? 'send the canonical form of the URI' : `send "${check.canonical}"`;
    const message = `Invalid params: resource URI ${JSON.stringify(uri)} ${check.reason}; ${expected}`;
    return { action: 'deny', error: new GatehouseError('GH_URI_NOT_CANONICAL', message, undefined, { uri, canonical: check.canonical ?? null }) };
  }

  private completion(ctx: PolicyContext, message: JsonRpcRequest, params: JsonObject): RequestDecision {
    const ref = isObject(params.ref) ? params.ref : {};
    if (ref.type === 'ref/prompt') {
      const name = typeof ref.name === 'string' ? ref.name : '';
      return this.decide(ctx, 'prompts/get', name, { name }).allowed ? ALLOW : respond(hidden.unknownPrompt(message.id, name));
    }
    const uri = typeof ref.uri === 'string' ? ref.uri : '';
    const refused = this.refuseNonCanonical(ctx, 'completion/complete', uri, checkUriTemplate(uri));
    if (refused) return refused;
    const visible = this.decide(ctx, 'resources/templates/list', uri, { uri }).allowed || this.decide(ctx, 'resources/read', uri, { uri }).allowed;
    return visible ? ALLOW : respond(hidden.unknownResourceTemplate(message.id, uri));
  }

  /** Capabilities for features the agent can use nothing of are removed from what it sees. */
  private trimCapabilities(original: JsonObject): JsonObject {
    const capabilities = { ...original };
    const grants = this.acl.grantable;
    if (!grants.has('tools/list') && !grants.has('tools/call')) delete capabilities.tools;
    if (![...grants].some((m) => m.startsWith('resources/'))) delete capabilities.resources;
    if (!grants.has('prompts/list') && !grants.has('prompts/get')) delete capabilities.prompts;
    if (!grants.has('prompts/get') && !grants.has('resources/templates/list') && !grants.has('resources/read')) delete capabilities.completions;
    if (!grants.has('tools/call')) {
      delete capabilities.tasks;
      // 2026-07-28: tasks are an extension, and run only tools/call.
      if (isObject(capabilities.extensions) && TASKS_EXTENSION in capabilities.extensions) {
        const { [TASKS_EXTENSION]: _tasks, ...others } = capabilities.extensions;
        capabilities.extensions = others;
      }
    }
    // A reload may change what this agent sees; Gatehouse then says so (gateway.ts), so clients
    // that listen only when the server promises it should.
    for (const kind of LIST_CAPABILITIES) if (isObject(capabilities[kind])) capabilities[kind] = { ...capabilities[kind], listChanged: true };
    return capabilities;
  }

  private decide(
    ctx: PolicyContext,
    method: string,
    name: string,
    mcp: { name?: string; uri?: string; arguments?: Readonly<Record<string, unknown>> },
    args?: Readonly<Record<string, unknown>>,
    trace = true,
  ): Decision {
    // A federated API: the server and original name behind the name are part of what is decided
    // (mcp.server, mcp.originalName), so they are part of what a remembered decision is keyed by.
    const target = ctx.targetOf ? (federatedTarget(ctx.targetOf, method, mcp) ?? NO_TARGET) : undefined;
    const variant = target === undefined ? undefined : `${target.server}\n${target.original}`;
    const decision = this.acl.decideFor(ctx.principal, method, name, () => conditionContext(ctx, method, mcp, target, this.annotations), args, variant);
    if (trace) this.record(ctx, method, name, decision, undefined, target ? { server: target.server, originalName: target.original } : undefined);
    return decision;
  }

  private record(ctx: PolicyContext, method: string, name: string | undefined, decision: Decision, reason?: string, federated?: { server: string; originalName: string }): void {
    const why =
      reason ??
      (decision.invalidArguments
        ? `invalid arguments: ${decision.invalidArguments}`
        : decision.conditionFailed
          ? 'the deny rule\'s condition failed at run time (deny rules fail closed)'
          : decision.rule
            ? undefined
            : 'no rule allows it');
    if (federated) ctx.trace.push({ policy: 'acl', method, name, allowed: decision.allowed, rule: decision.rule, reason: why, server: federated.server, originalName: federated.originalName });
    else ctx.trace.push({ policy: 'acl', method, name, allowed: decision.allowed, rule: decision.rule, reason: why });
    if (ctx.log.isLevelEnabled('debug')) {
      const acl = { method, name, allowed: decision.allowed, rule: decision.rule ?? null, reason: why ?? null };
      // A federated API: the server and original name behind the name, as in the trace.
      ctx.log.debug(federated ? { acl, server: federated.server, originalName: federated.originalName, agent: ctx.principal.id } : { acl, agent: ctx.principal.id }, 'acl decision');
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
  /** The federated target of mcp.name, when the caller has looked it up already. */
  known?: { readonly server: string; readonly original: string },
  annotations: TrustedAnnotations = EMPTY_ANNOTATIONS,
): ConditionContext {
  const p = ctx.principal;
  const name = mcp.name ?? '';
  // A federated API: the server and original name behind the name the agent used ("" when no server offers it).
  const target = known ?? (ctx.targetOf ? federatedTarget(ctx.targetOf, method, mcp) : undefined);
  const server = ctx.targetOf ? (target?.server ?? '') : ctx.server;
  // A resource's name is "" (its URI is mcp.uri), on every API.
  const originalName = ctx.targetOf ? (mcp.name === undefined ? '' : (target?.original ?? '')) : name;
  const tool = method.startsWith('tools/') && !annotations.empty ? { annotations: annotations.of(server, originalName) } : NO_TOOL;
  return {
    agent: { id: p.id, kind: p.kind, name: p.name ?? '', labels: p.labels ?? NO_LABELS, tenant: p.tenant ?? '' },
    user: { id: p.user?.id ?? '', name: p.user?.name ?? '' },
    claims: p.claims ?? NO_CLAIMS,
    request: { headers: ctx.request.headers, address: ctx.request.remoteAddress ?? '' },
    mcp: {
      method,
      name,
      uri: mcp.uri ?? '',
      arguments: mcp.arguments ?? NO_ARGUMENTS,
      server,
      originalName,
      tool,
    },
    now: new Date(),
  };
}

/**
 * The server (and original name) behind what a decision is about on a federated API: a tool's or
 * prompt's name, else a resource URI (or template), owned by the server that listed it or whose
 * template it fits.
 */
function federatedTarget(
  targetOf: NonNullable<PolicyContext['targetOf']>,
  method: string,
  mcp: { name?: string; uri?: string },
): { readonly server: string; readonly original: string } | undefined {
  if (mcp.name !== undefined) return targetOf(method.startsWith('prompts/') ? 'prompts' : 'tools', mcp.name);
  return mcp.uri !== undefined && mcp.uri !== '' ? targetOf('resources', mcp.uri) : undefined;
}

const NO_TARGET = Object.freeze({ server: '', original: '' });
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});
const NO_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({});
