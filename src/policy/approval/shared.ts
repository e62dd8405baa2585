// The approval queue across the nodes of a cluster. A call is held on the node its request
// reached (its client waits there), but an approver may reach any node's admin listener: the
// console's queue, the API or a webhook link. So each node keeps its held calls in the store every
// node shares too (the `oauth_grants` rows, key `approval:<id>`, expiring with the call), lists
// them all, and a decision made on a node that does not hold the call is written beside it
// (`approval-decision:<id>`) for the holding node, which looks for decisions on its calls every
// second and applies them as its own. On one node (SQLite) it is the same code with one node.
import type { Logger } from '../../log.ts';
import type { Store } from '../../store/store.ts';
import type { ApprovalBook, LinkAction, PendingApproval } from './book.ts';

const HELD = 'approval:';
const DECISION = 'approval-decision:';
/** How often the holding node looks for decisions made elsewhere. */
const POLL_MS = 1000;
/** Most held calls listed from the store at once (each node holds at most MAX_PENDING). */
const LIST_LIMIT = 5000;

/** What deciding a call came to: settled here, written for the node that holds it, or not possible. */
export type DecisionOutcome = 'decided' | 'relayed' | 'conflict' | 'missing';

export class SharedApprovals {
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly book: ApprovalBook,
    private readonly store: Store,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {
    book.onHeld = (approval) => this.write(this.store.putGrant({ key: HELD + approval.id, payload: { ...approval, node: this.nodeId }, expiresAt: approval.expiresAt }), 'could not share a held call with the other nodes');
    book.onSettled = (approval) => {
      this.write(this.store.deleteGrant(HELD + approval.id), 'could not remove a decided call from the shared queue');
      this.write(this.store.deleteGrant(DECISION + approval.id), 'could not remove a decision from the shared queue');
    };
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get linkBase(): string | undefined {
    return this.book.linkBase;
  }

  checkLink(id: string, action: LinkAction, token: string): boolean {
    return this.book.checkLink(id, action, token);
  }

  /** Every node's calls waiting for operators (a tenant's only, when given), oldest first. */
  async list(tenant?: string): Promise<PendingApproval[]> {
    const local = this.book.list(tenant);
    const seen = new Set(local.map((a) => a.id));
    const elsewhere = (await this.store.listGrants(HELD, LIST_LIMIT)).flatMap((grant) => {
      const approval = approvalIn(grant.payload);
      return approval && !seen.has(approval.id) && (tenant === undefined || approval.tenant === tenant) ? [approval] : [];
    });
    return [...local, ...elsewhere].sort((a, b) => a.requestedAt - b.requestedAt);
  }

  /** A call waiting for operators on any node. */
  async get(id: string): Promise<PendingApproval | undefined> {
    return this.book.get(id) ?? approvalIn((await this.store.getGrant(HELD + id))?.payload);
  }

  /**
   * Decides a call: here when it waits here, else by writing the decision for its node.
   * `argumentsHash`, when given, must be the one the approver saw.
   */
  async decide(id: string, approve: boolean, by: string, argumentsHash?: string): Promise<DecisionOutcome> {
    if (this.book.get(id)) return this.book.decide(id, approve, by, argumentsHash) ? 'decided' : 'conflict';
    const held = await this.store.getGrant(HELD + id);
    const approval = approvalIn(held?.payload);
    if (!held || !approval) return 'missing';
    if (argumentsHash !== undefined && argumentsHash !== approval.argumentsHash) return 'conflict';
    await this.store.putGrant({ key: DECISION + id, payload: { approve, by, argumentsHash: approval.argumentsHash }, expiresAt: held.expiresAt });
    return 'relayed';
  }

  /** Applies decisions other nodes wrote for the calls held here. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    const ids = this.book.operatorIds();
    if (ids.length === 0) return;
    this.polling = true;
    try {
      for (const id of ids) {
        const decision = await this.store.takeGrant(DECISION + id);
        const payload = decision?.payload;
        if (!payload || typeof payload.approve !== 'boolean' || typeof payload.by !== 'string') continue;
        const argumentsHash = typeof payload.argumentsHash === 'string' ? payload.argumentsHash : undefined;
        if (this.book.decide(id, payload.approve, payload.by, argumentsHash)) this.log.info({ approval: id, approved: payload.approve, by: payload.by }, 'approval: a decision made on another node applied');
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'approval: could not read decisions made on other nodes');
    } finally {
      this.polling = false;
    }
  }

  /** Settles when the write did (a failure is logged, not thrown). */
  private write(done: Promise<unknown>, message: string): Promise<void> {
    return done.then(
      () => undefined,
      (error: unknown) => this.log.warn({ err: (error as Error).message }, `approval: ${message}`),
    );
  }
}

/** A held call as another node stored it; undefined for anything else under that key. */
function approvalIn(payload: Record<string, unknown> | undefined): PendingApproval | undefined {
  if (!payload) return undefined;
  const { id, api, agent, tool, server, originalName, argumentsHash, requestedAt, expiresAt, arguments: args } = payload;
  if (typeof id !== 'string' || typeof api !== 'string' || typeof agent !== 'string' || typeof tool !== 'string' || typeof server !== 'string' || typeof originalName !== 'string') return undefined;
  if (typeof argumentsHash !== 'string' || typeof requestedAt !== 'number' || typeof expiresAt !== 'number' || typeof args !== 'object' || args === null || Array.isArray(args)) return undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    id,
    api,
    tenant: text(payload.tenant),
    agent,
    user: text(payload.user),
    session: text(payload.session),
    tool,
    server,
    originalName,
    arguments: args as PendingApproval['arguments'],
    argumentsHash,
    requestedAt,
    expiresAt,
    reason: text(payload.reason),
  };
}
