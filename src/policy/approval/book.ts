// The calls waiting for a person's approval, on this node. Each is one held `tools/call`: its
// exact arguments (by hash), agent, user and session; a decision settles that call only, once.
// Links for the webhook carry an HMAC of the id and the action under a key derived from the
// session key every node shares (a random one until it is given), so a link works on any node's
// admin listener while the call waits, and never after. shared.ts makes the queue cluster-wide.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { JsonObject } from '../../mcp/jsonrpc.ts';
import { ClientKeys } from './client-keys.ts';
import { ApprovalStateSealer } from './request-state.ts';

export interface PendingApproval {
  readonly id: string;
  readonly api: string;
  readonly tenant: string | undefined;
  readonly agent: string;
  readonly user: string | undefined;
  /** The audit tag of the session, when the client has one. */
  readonly session: string | undefined;
  /** The tool as the agent named it, and the server and name it has there. */
  readonly tool: string;
  readonly server: string;
  readonly originalName: string;
  readonly arguments: JsonObject;
  /** SHA-256 of the arguments' JSON: what was shown is what runs. */
  readonly argumentsHash: string;
  readonly requestedAt: number;
  readonly expiresAt: number;
  /** Why it waits, when another policy than `approval` holds it (taint: what tainted the session). */
  readonly reason?: string | undefined;
  /** `user`: the person behind the agent decides (elicitation), not operators: not in the admin queue. */
  readonly approver?: 'user' | undefined;
}

export type ApprovalOutcome = { readonly approved: true; readonly by: string } | { readonly approved: false; readonly by: string; readonly reason: 'denied' | 'timeout' | 'cancelled' };

export type LinkAction = 'approve' | 'deny';

/** Most calls waiting at once on a node; one more is refused at once. */
export const MAX_PENDING = 1000;

interface Waiting {
  readonly approval: PendingApproval;
  readonly settle: (outcome: ApprovalOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

export class ApprovalBook {
  private readonly waiting = new Map<string, Waiting>();
  private linkKey: Buffer = randomBytes(32);
  /** Told of each call held for operators, and of its end (shared.ts keeps them in the store); settles once the other nodes can see it. */
  onHeld: ((approval: PendingApproval) => Promise<void> | void) | undefined;
  onSettled: ((approval: PendingApproval) => void) | undefined;
  /** Held calls by the ids their clients know them by (cancels, answers to elicitations). */
  readonly clients = new ClientKeys();
  /** Seals the request states of questions asked through `input_required` (2026-07-28 clients). */
  readonly states = new ApprovalStateSealer();
  /** The admin listener's public base (admin.publicUrl, else its address): where the webhook's links point. */
  linkBase: string | undefined;

  /** Holds a call; the promise settles with the decision, or with a timeout after `timeoutMs`. Undefined when too many wait already. */
  hold(call: Omit<PendingApproval, 'id' | 'argumentsHash' | 'requestedAt' | 'expiresAt'>, timeoutMs: number): { approval: PendingApproval; outcome: Promise<ApprovalOutcome>; shared: Promise<void> } | undefined {
    if (this.waiting.size >= MAX_PENDING) return undefined;
    const now = Date.now();
    const approval: PendingApproval = { ...call, id: randomUUID(), argumentsHash: hashArguments(call.arguments), requestedAt: now, expiresAt: now + timeoutMs };
    const outcome = new Promise<ApprovalOutcome>((resolve) => {
      const timer = setTimeout(() => this.settle(approval.id, { approved: false, by: 'timeout', reason: 'timeout' }), timeoutMs);
      timer.unref();
      this.waiting.set(approval.id, { approval, settle: resolve, timer });
    });
    const shared = approval.approver === undefined ? Promise.resolve(this.onHeld?.(approval)) : Promise.resolve();
    return { approval, outcome, shared };
  }

  /** The calls waiting for operators (a tenant's only, when given), oldest first. */
  list(tenant?: string): PendingApproval[] {
    return [...this.waiting.values()].map((w) => w.approval).filter((a) => a.approver === undefined && (tenant === undefined || a.tenant === tenant));
  }

  /** A call waiting for operators. */
  get(id: string): PendingApproval | undefined {
    const approval = this.waiting.get(id)?.approval;
    return approval?.approver === undefined ? approval : undefined;
  }

  /**
   * Decides a waiting call; false when it is not waiting (decided already, timed out, unknown).
   * `argumentsHash`, when given, must be the one the approver saw.
   */
  decide(id: string, approve: boolean, by: string, argumentsHash?: string): boolean {
    const waiting = this.waiting.get(id);
    if (!waiting || waiting.approval.approver !== undefined || (argumentsHash !== undefined && argumentsHash !== waiting.approval.argumentsHash)) return false;
    return this.settle(id, approve ? { approved: true, by } : { approved: false, by, reason: 'denied' });
  }

  /** The user's answer to a call held for them (`approver: user`); false when it is not waiting. */
  answer(id: string, approve: boolean, by: string): boolean {
    if (this.waiting.get(id)?.approval.approver !== 'user') return false;
    return this.settle(id, approve ? { approved: true, by } : { approved: false, by, reason: 'denied' });
  }

  /** Takes a call out of the queue because its client cancelled it; false when it is not waiting. */
  withdraw(id: string, by: string): boolean {
    return this.settle(id, { approved: false, by, reason: 'cancelled' });
  }

  /** The key the webhook's links are signed with: one every node of a cluster derives alike. */
  useLinkKey(key: Buffer): void {
    this.linkKey = key;
  }

  /** Ids of the calls waiting for operators here. */
  operatorIds(): string[] {
    return [...this.waiting.values()].filter((w) => w.approval.approver === undefined).map((w) => w.approval.id);
  }

  linkToken(id: string, action: LinkAction): string {
    return createHmac('sha256', this.linkKey).update(`${id}\n${action}`).digest('base64url');
  }

  checkLink(id: string, action: LinkAction, token: string): boolean {
    const expected = Buffer.from(this.linkToken(id, action));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private settle(id: string, outcome: ApprovalOutcome): boolean {
    const waiting = this.waiting.get(id);
    if (!waiting) return false;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    waiting.settle(outcome);
    if (waiting.approval.approver === undefined) this.onSettled?.(waiting.approval);
    return true;
  }
}

export function hashArguments(args: JsonObject): string {
  return createHash('sha256').update(JSON.stringify(args)).digest('hex');
}
