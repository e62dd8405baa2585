// The approval policy: a `tools/call` its CEL condition picks (the ACL's context: agent, user,
// arguments, the operator's tool annotations…) is held until a person approves or denies it, or
// refused at the timeout. Approvers see the held calls in the admin API and get a webhook with
// signed links. What is approved is that held call, with the arguments that were shown: nothing
// the agent sends later can reuse it.
import { GatehouseError } from '../../errors.ts';
import { isObject, isRequest, type JsonObject, type JsonRpcMessage } from '../../mcp/jsonrpc.ts';
import type { Logger } from '../../log.ts';
import { conditionContext } from '../acl/acl-policy.ts';
import { compileCondition, type Condition } from '../acl/condition.ts';
import type { TrustedAnnotations } from '../annotations/trusted.ts';
import { ALLOW, type Policy, type PolicyContext, type RequestDecision } from '../policy.ts';
import { SignedWebhook } from '../webhook.ts';
import type { ApprovalBook, PendingApproval } from './book.ts';
import type { ApprovalConfig } from './schema.ts';
import { approvalLinks } from './links.ts';

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
    if (!isRequest(message) || message.method !== 'tools/call') return ALLOW;
    const params = isObject(message.params) ? message.params : {};
    const name = typeof params.name === 'string' ? params.name : '';
    const args: JsonObject = isObject(params.arguments) ? params.arguments : {};
    const target = ctx.targetOf ? ctx.targetOf('tools', name) : ctx.server === '' ? undefined : { server: ctx.server, original: name };
    // A condition that fails at run time holds the call: approval is where safety is the point.
    if (this.when(conditionContext(ctx, 'tools/call', { name, arguments: args }, target, this.annotations)) === false) return ALLOW;
    const held = this.book.hold(
      { api: ctx.api, tenant: ctx.principal.tenant, agent: ctx.principal.id, user: ctx.principal.user?.id, session: ctx.sessionId === undefined ? undefined : ctx.sessionId.slice(-12), tool: name, server: target?.server ?? '', originalName: target?.original ?? name, arguments: args },
      this.config.timeout,
    );
    if (!held) return { action: 'deny', error: new GatehouseError('GH_APPROVALS_FULL', 'Service Unavailable: too many calls wait for approval on this node; try again later') };
    const { approval, outcome } = held;
    this.log.info({ approval: approval.id, api: approval.api, agent: approval.agent, tool: name }, 'tool call held for approval');
    this.notify(approval);
    return outcome.then((decided): RequestDecision => {
      const base = { policy: 'approval', method: 'tools/call', name, ...(target && { server: target.server, originalName: target.original }) };
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
      ctx.trace.push({ ...base, allowed: false, reason: `denied by ${decided.by}` });
      return { action: 'deny', error: new GatehouseError('GH_APPROVAL_DENIED', `Refused: an approver (${decided.by}) denied "${name}" with these arguments.`) };
    });
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
