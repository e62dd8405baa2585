// The taint policy: a session that got a result of a tool the operator marked `untrustedOutput`
// is tainted (its agent may now carry an attacker's instructions); from then on a call of a tool
// marked `exfiltration` in that session is refused. The operator's marks (toolAnnotations) decide,
// never the server's own annotations. The taint is kept in the store (book.ts), so the session's
// next request on another node is judged the same way. A 2026-07-28 client has no session: its
// agent and user are tainted on the API for the policy's ttl instead. Its trace entries' rule
// says what happened (tainted, refused, approved): the audit record's rule and the dashboard's
// marker read it.
import { GatehouseError } from '../../errors.ts';
import { isObject, isRequest, isResponse, type JsonRpcMessage, type JsonRpcRequest } from '../../mcp/jsonrpc.ts';
import type { TrustedAnnotations } from '../annotations/trusted.ts';
import { ALLOW, type Policy, type PolicyContext, type RequestDecision } from '../policy.ts';
import { TaintBook, type Taint } from './book.ts';
import type { ApprovalBook } from '../approval/book.ts';
import type { TaintConfig } from './schema.ts';

export class TaintPolicy implements Policy {
  readonly name = 'taint';
  /** What it does with an answer depends on the session, not only on the answer. */
  readonly stableResponses = false;

  constructor(
    private readonly config: TaintConfig,
    private readonly annotations: TrustedAnnotations,
    private readonly book: TaintBook,
    /** Where a tainted session's call waits under `action: approve`. */
    private readonly approvals: ApprovalBook,
  ) {}

  onRequest(ctx: PolicyContext, message: JsonRpcMessage): RequestDecision | Promise<RequestDecision> {
    if (!isRequest(message) || message.method !== 'tools/call') return ALLOW;
    const name = toolName(message);
    const target = targetOf(ctx, name);
    if (target === undefined || !this.annotations.of(target.server, target.original).exfiltration) return ALLOW;
    return this.book.taintOf(keyOf(ctx)).then((taint) => {
      if (taint === undefined) return ALLOW;
      return this.config.action === 'approve' ? this.holdForApproval(ctx, message, name, target, taint) : this.refuse(ctx, name, target, taint);
    });
  }

  /** action: approve — the call waits for a person, who sees why (the call and what tainted the session). */
  private async holdForApproval(ctx: PolicyContext, message: JsonRpcRequest, name: string, target: { server: string; original: string }, taint: Taint): Promise<RequestDecision> {
    const args = isObject(message.params) && isObject(message.params.arguments) ? message.params.arguments : {};
    const held = this.approvals.hold(
      { api: ctx.api, tenant: ctx.principal.tenant, agent: ctx.principal.id, user: ctx.principal.user?.id, session: ctx.sessionId?.slice(-12), tool: name, server: target.server, originalName: target.original, arguments: args, reason: `the session got untrusted content from ${taint.server}/${taint.tool}` },
      this.config.approvalTimeout,
    );
    if (!held) return this.refuse(ctx, name, target, taint);
    const outcome = await held.outcome;
    if (outcome.approved && ctx.response?.destroyed !== true) {
      ctx.trace.push({ policy: 'taint', method: 'tools/call', name, allowed: true, rule: 'approved', reason: `tainted by ${taint.server}/${taint.tool}; approved by ${outcome.by}`, server: target.server, originalName: target.original });
      return ALLOW;
    }
    return this.refuse(ctx, name, target, taint);
  }

  onResponse(ctx: PolicyContext, message: JsonRpcMessage, request: JsonRpcRequest | undefined): JsonRpcMessage | undefined {
    // Any result counts, an error result (isError) too: its text may be the attacker's as well.
    if (request === undefined || request.method !== 'tools/call' || !isResponse(message) || message.result === undefined) return message;
    const name = toolName(request);
    const target = targetOf(ctx, name);
    if (target === undefined || !this.annotations.of(target.server, target.original).untrustedOutput) return message;
    this.book.taint(keyOf(ctx), { server: target.server, tool: target.original, taintedAt: Date.now() }, this.config.ttl);
    ctx.trace.push({ policy: 'taint', method: 'tools/call', name, allowed: true, rule: 'tainted', reason: 'the session is now tainted: this tool\'s output is marked untrusted', server: target.server, originalName: target.original });
    return message;
  }

  private refuse(ctx: PolicyContext, name: string, target: { server: string; original: string }, taint: Taint): RequestDecision {
    const by = `${taint.server}/${taint.tool}`;
    const reason = `the session got untrusted content from ${by}, and ${name} can send data out`;
    ctx.trace.push({ policy: 'taint', method: 'tools/call', name, allowed: false, rule: 'refused', reason, server: target.server, originalName: target.original });
    const message = `Refused: this session has read content from ${by}, which may carry instructions from someone else, and "${name}" can send data outside. Start a new session to use it.`;
    return { action: 'deny', error: new GatehouseError('GH_SESSION_TAINTED', message, undefined, { taintedBy: { server: taint.server, tool: taint.tool, at: new Date(taint.taintedAt).toISOString() } }) };
  }
}

function toolName(request: JsonRpcRequest): string {
  return isObject(request.params) && typeof request.params.name === 'string' ? request.params.name : '';
}

/** The server and the tool's name there: the API's server, or the federated member behind the name. */
function targetOf(ctx: PolicyContext, name: string): { readonly server: string; readonly original: string } | undefined {
  if (ctx.targetOf) return ctx.targetOf('tools', name);
  return ctx.server === '' ? undefined : { server: ctx.server, original: name };
}

function keyOf(ctx: PolicyContext): string {
  return TaintBook.keyOf(ctx.api, ctx.sessionId, ctx.principal.key);
}
