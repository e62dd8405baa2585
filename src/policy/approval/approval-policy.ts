// The approval policy: a `tools/call` its CEL condition picks (the ACL's context: agent, user,
// arguments, the operator's tool annotations…) is held until a person approves or denies it, or
// refused at the timeout. Approvers see the held calls in the admin API and get a webhook with
// signed links; under `approver: user` the person behind the agent is asked instead (form
// elicitation on the call's stream, or `input_required` for 2026-07-28 clients). While it waits,
// a client that gave a progress token hears so, and a client that cancels it withdraws it. What
// is approved is that held call, with the arguments that were shown: nothing the agent sends
// later can reuse it.
import { GatehouseError } from '../../errors.ts';
import { isObject, isRequest, isResponse, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest } from '../../mcp/jsonrpc.ts';
import type { Logger } from '../../log.ts';
import { isStateless } from '../../mcp/versions.ts';
import { conditionContext } from '../acl/acl-policy.ts';
import { compileCondition, type Condition } from '../acl/condition.ts';
import type { TrustedAnnotations } from '../annotations/trusted.ts';
import { ALLOW, type DecisionTrace, type Policy, type PolicyContext, type RequestDecision } from '../policy.ts';
import { SignedWebhook } from '../webhook.ts';
import { hashArguments, type ApprovalBook, type PendingApproval } from './book.ts';
import type { ApprovalConfig } from './schema.ts';
import { approvalLinks } from './links.ts';
import { approvalQuestion, approvedIn, INPUT_KEY, QUESTION_ID_PREFIX, refusalOf } from './ask-user.ts';
import { APPROVAL_STATE_PREFIX } from './request-state.ts';
import { progressToken, reportWaiting } from './progress.ts';

const CONSUME: RequestDecision = Object.freeze({ action: 'consume' });

/** What every trace entry of this policy about a call says. */
function traceBase(name: string, target: { readonly server: string; readonly original: string } | undefined): Omit<DecisionTrace, 'allowed'> {
  return { policy: 'approval', method: 'tools/call', name, ...(target && { server: target.server, originalName: target.original }) };
}

/** Who answered a question to the user, as the audit trace names them. */
function userOf(ctx: PolicyContext, refusal?: string): string {
  return `user${ctx.principal.user ? ` ${ctx.principal.user.id}` : ''}${refusal === undefined ? '' : `: ${refusal}`}`;
}

export class ApprovalPolicy implements Policy {
  readonly name = 'approval';
  private readonly when: Condition;
  private readonly webhook: SignedWebhook | undefined;

  constructor(
    private readonly config: ApprovalConfig,
    private readonly annotations: TrustedAnnotations,
    private readonly book: ApprovalBook,
    private readonly log: Logger,
  ) {
    this.when = compileCondition(config.when);
    this.webhook = config.webhook && new SignedWebhook(config.webhook, log, 'approval');
  }

  onRequest(ctx: PolicyContext, message: JsonRpcMessage): RequestDecision | Promise<RequestDecision> {
    if (!isRequest(message)) return this.fromClient(ctx, message);
    if (message.method !== 'tools/call') return ALLOW;
    const params = isObject(message.params) ? message.params : {};
    const name = typeof params.name === 'string' ? params.name : '';
    const args: JsonObject = isObject(params.arguments) ? params.arguments : {};
    const target = ctx.targetOf ? ctx.targetOf('tools', name) : ctx.server === '' ? undefined : { server: ctx.server, original: name };
    const state = params.requestState;
    if (typeof state === 'string' && state.startsWith(APPROVAL_STATE_PREFIX)) return this.retried(ctx, message, state, args, traceBase(name, target));
    // A condition that fails at run time holds the call: approval is where safety is the point.
    if (this.when(conditionContext(ctx, 'tools/call', { name, arguments: args }, target, this.annotations)) === false) return ALLOW;
    const base = traceBase(name, target);
    const byUser = this.config.approver === 'user';
    const stateless = isStateless(ctx.protocolVersion);
    if (byUser && (!ctx.clientElicits || (!stateless && !ctx.toClient))) {
      const why = !ctx.clientElicits
        ? stateless
          ? 'the request did not declare the elicitation capability (form mode) in its _meta clientCapabilities'
          : 'the client did not declare the elicitation capability (form mode) when it initialized'
        : 'this request cannot carry a question to the client (a batch)';
      ctx.trace.push({ ...base, allowed: false, reason: `approver: user, but ${why}` });
      return { action: 'deny', error: new GatehouseError('GH_APPROVAL_DENIED', `Refused: "${name}" needs the approval of the person using this agent, asked through elicitation, and ${why}.`) };
    }
    const held = this.book.hold(
      { api: ctx.api, tenant: ctx.principal.tenant, agent: ctx.principal.id, user: ctx.principal.user?.id, session: ctx.sessionId === undefined ? undefined : ctx.sessionId.slice(-12), tool: name, server: target?.server ?? '', originalName: target?.original ?? name, arguments: args, ...(byUser && { approver: 'user' as const }) },
      this.config.timeout,
    );
    if (!held) return { action: 'deny', error: new GatehouseError('GH_APPROVALS_FULL', 'Service Unavailable: too many calls wait for approval on this node; try again later') };
    const { approval, outcome, shared } = held;
    if (byUser && stateless) return this.inputRequired(ctx, message.id, approval);
    this.log.info({ approval: approval.id, api: approval.api, agent: approval.agent, tool: name, approver: byUser ? 'user' : 'operators' }, 'tool call held for approval');
    // While it waits: the client may cancel it by its id, and hears of it when it asked for progress.
    const stops = [this.book.clients.holdRequest(ctx, message.id, approval.id), watchClient(ctx, () => this.book.withdraw(approval.id, CLIENT_GONE))];
    const token = progressToken(params);
    if (token !== undefined && ctx.toClient) stops.push(reportWaiting(ctx.toClient, token, approval, this.config.progressInterval, byUser ? 'you' : 'an operator'));
    let question: string | undefined;
    if (byUser) {
      const asked = approvalQuestion(approval);
      question = asked.id;
      stops.push(this.book.clients.askUser(ctx, asked.id, approval.id));
      // A client gone before it could be asked has nobody to answer: the call leaves the queue.
      if (!ctx.toClient!.send(asked)) this.book.withdraw(approval.id, 'client');
    } else {
      // The webhook's links may be opened on any node: sent once every node can see the call.
      void shared.then(() => this.notify(approval));
    }
    return outcome.then((decided): RequestDecision => {
      for (const stop of stops) stop();
      // The form still shown is of no use any more: the client may close it (MCP cancellation).
      if (question !== undefined && !decided.approved && decided.reason === 'timeout') {
        ctx.toClient?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: question, reason: 'The approval timed out' } });
      }
      if (decided.approved && ctx.response?.destroyed === true) {
        // Approved after its client left: nobody would get the answer, so it does not run.
        this.log.info({ approval: approval.id, api: approval.api, agent: approval.agent, tool: name, by: decided.by }, 'approved tool call not run: its client had gone');
        ctx.trace.push({ ...base, allowed: false, reason: `approved by ${decided.by} after the client had gone: not run` });
        return { action: 'deny', error: new GatehouseError('GH_APPROVAL_TIMEOUT', `Refused: "${name}" was approved after its client had gone.`) };
      }
      if (decided.approved) {
        ctx.trace.push({ ...base, allowed: true, reason: `approved by ${decided.by}` });
        return ALLOW;
      }
      if (decided.reason === 'timeout') {
        ctx.trace.push({ ...base, allowed: false, reason: `nobody approved it within ${this.config.timeout} ms` });
        return { action: 'deny', error: new GatehouseError('GH_APPROVAL_TIMEOUT', `Refused: "${name}" needs a person's approval, and nobody approved it in time (${Math.round(this.config.timeout / 1000)} s).`) };
      }
      if (decided.reason === 'cancelled' && decided.by === CLIENT_GONE) {
        this.log.info({ approval: approval.id, api: approval.api, agent: approval.agent, tool: name }, 'held tool call withdrawn: its client left');
        ctx.trace.push({ ...base, allowed: false, reason: 'withdrawn: the client left while it waited for approval' });
        return { action: 'deny', error: new GatehouseError('GH_APPROVAL_DENIED', `Refused: the client left while "${name}" waited for approval.`) };
      }
      if (decided.reason === 'cancelled') {
        this.log.info({ approval: approval.id, api: approval.api, agent: approval.agent, tool: name }, 'held tool call cancelled by its client');
        ctx.trace.push({ ...base, allowed: false, reason: 'cancelled by the client while it waited for approval' });
        return { action: 'deny', error: new GatehouseError('GH_APPROVAL_DENIED', `Refused: the client cancelled "${name}" while it waited for approval.`) };
      }
      ctx.trace.push({ ...base, allowed: false, reason: `denied by ${decided.by}` });
      const refused = byUser ? `Refused: the person using this agent did not approve "${name}" with these arguments (${decided.by}).` : `Refused: an approver (${decided.by}) denied "${name}" with these arguments.`;
      return { action: 'deny', error: new GatehouseError('GH_APPROVAL_DENIED', refused) };
    });
  }

  /**
   * `approver: user`, 2026-07-28: the question goes back as an `input_required` result whose
   * sealed request state names the held approval; the client's retry (retried) answers it.
   */
  private inputRequired(ctx: PolicyContext, id: JsonRpcId, approval: PendingApproval): RequestDecision {
    this.log.info({ approval: approval.id, api: approval.api, agent: approval.agent, tool: approval.tool, approver: 'user' }, 'tool call held for approval: asked through input_required');
    const requestState = this.book.states.seal({ api: ctx.api, sub: ctx.principal.key, a: approval.id, h: approval.argumentsHash, exp: approval.expiresAt });
    const { method, params } = approvalQuestion(approval);
    return { action: 'respond', response: { jsonrpc: '2.0', id, result: { resultType: 'input_required', inputRequests: { [INPUT_KEY]: { method, params } }, requestState } } };
  }

  /** The retry of a call asked about through input_required: the user's answer decides it, once. */
  private retried(ctx: PolicyContext, message: JsonRpcRequest, state: string, args: JsonObject, base: Omit<DecisionTrace, 'allowed'>): RequestDecision {
    const name = base.name ?? '';
    const claims = this.book.states.unseal(state);
    if (!claims || claims.api !== ctx.api || claims.sub !== ctx.principal.key) {
      ctx.trace.push({ ...base, allowed: false, reason: 'a requestState this gateway did not issue to this agent' });
      return { action: 'deny', error: new GatehouseError('GH_INPUT_STATE_INVALID', 'Invalid params: requestState was not issued by this gateway for this agent; call again without it') };
    }
    if (claims.h !== hashArguments(args)) {
      ctx.trace.push({ ...base, allowed: false, reason: 'retried with other arguments than the ones the user was asked about' });
      return { action: 'deny', error: new GatehouseError('GH_APPROVAL_DENIED', `Refused: the arguments of "${name}" differ from the ones the user was asked about; call again without requestState to ask again.`) };
    }
    const params = message.params ?? {};
    const responses = isObject(params.inputResponses) ? params.inputResponses : {};
    const answer = responses[INPUT_KEY];
    const approved = approvedIn(answer);
    const by = userOf(ctx, approved ? undefined : refusalOf({ result: answer }));
    if (!this.book.answer(claims.a, approved, by)) {
      const expired = claims.exp <= Date.now();
      ctx.trace.push({ ...base, allowed: false, reason: expired ? `nobody approved it within ${this.config.timeout} ms` : 'its approval was used already' });
      return expired
        ? { action: 'deny', error: new GatehouseError('GH_APPROVAL_TIMEOUT', `Refused: "${name}" needs the user's approval, and it was not given in time (${Math.round(this.config.timeout / 1000)} s); call again without requestState to ask again.`) }
        : { action: 'deny', error: new GatehouseError('GH_INPUT_STATE_INVALID', 'Invalid params: this requestState was used already (an approval is used once); call again without it') };
    }
    if (!approved) {
      ctx.trace.push({ ...base, allowed: false, reason: `denied by ${by}` });
      return { action: 'deny', error: new GatehouseError('GH_APPROVAL_DENIED', `Refused: the person using this agent did not approve "${name}" with these arguments (${by}).`) };
    }
    ctx.trace.push({ ...base, allowed: true, reason: `approved by ${by}` });
    // What goes on is the call itself: Gatehouse's round trip ends here, the server never sees it.
    const { requestState: _state, inputResponses: _responses, ...rest } = params;
    return { action: 'rewrite', message: { ...message, params: rest } };
  }

  /**
   * A client's notification or answer: a cancel of a call held here withdraws it, and an answer
   * to Gatehouse's own question decides the call it asked about; both stop here (the server never
   * saw that call or that question). Anything else goes on.
   */
  private fromClient(ctx: PolicyContext, message: JsonRpcMessage): RequestDecision {
    if (isResponse(message)) {
      if (typeof message.id !== 'string' || !message.id.startsWith(QUESTION_ID_PREFIX)) return ALLOW;
      const id = this.book.clients.takeAnswer(ctx, message.id);
      // An answer after the call was decided (or to no question of this session) is dropped.
      if (id !== undefined) {
        const approved = approvedIn(message.result);
        this.book.answer(id, approved, userOf(ctx, approved ? undefined : refusalOf(message)));
      }
      return CONSUME;
    }
    if (message.method !== 'notifications/cancelled' || !isObject(message.params)) return ALLOW;
    const requestId = message.params.requestId;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return ALLOW;
    const id = this.book.clients.requestOf(ctx, requestId);
    return id !== undefined && this.book.withdraw(id, 'client') ? CONSUME : ALLOW;
  }

  private notify(approval: PendingApproval): void {
    if (!this.webhook) return;
    const links = approvalLinks(this.book, approval.id);
    this.webhook.send({
      event: 'approval_requested',
      id: approval.id,
      api: approval.api,
      agent: approval.agent,
      user: approval.user ?? null,
      tool: approval.tool,
      server: approval.server,
      originalName: approval.originalName,
      arguments: approval.arguments,
      argumentsHash: approval.argumentsHash,
      requestedAt: new Date(approval.requestedAt).toISOString(),
      expiresAt: new Date(approval.expiresAt).toISOString(),
      ...(links && { approveUrl: links.approve, denyUrl: links.deny }),
    });
  }
}

/** Who withdrew a call whose client left (its connection closed without a cancel). */
const CLIENT_GONE = 'client-gone';
/** How often a held call looks whether its client is still there. */
const CLIENT_CHECK_MS = 1000;

/**
 * Calls `gone` once the client of a held call has left (its response closed): the call leaves the
 * queue instead of waiting for a decision nobody would hear. Policies see the response's state,
 * not its events (policy.ts), so it is looked at once a second. Returns the stop.
 */
function watchClient(ctx: PolicyContext, gone: () => void): () => void {
  const response = ctx.response;
  if (!response) return () => undefined;
  const timer = setInterval(() => {
    if (!response.destroyed) return;
    clearInterval(timer);
    gone();
  }, CLIENT_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
