// The policy interface and the chain runner. Policies see decoded messages and a context; they
// never touch sockets. A policy with no onResponse leaves responses streaming untouched.
import type { GatehouseError } from '../errors.ts';
import { idKey, isRequest, type JsonRpcErrorObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import type { Logger } from '../log.ts';
import type { Principal } from '../auth/principal.ts';
import type { ProtocolVersion } from '../mcp/versions.ts';
import { AnswerMemo, REPEATING_ANSWERS } from './answer-memo.ts';

export type Direction = 'client-to-server' | 'server-to-client';

export interface PolicyContext {
  readonly api: string;
  readonly server: string;
  readonly principal: Principal;
  readonly protocolVersion: ProtocolVersion;
  readonly sessionId: string | undefined;
  readonly request: { readonly headers: Readonly<Record<string, string | string[] | undefined>>; readonly remoteAddress: string | undefined };
  /** The client's response: `destroyed` once the client has gone (a policy that waits checks it). */
  readonly response?: { readonly destroyed: boolean } | undefined;
  /**
   * A single request's answer stream, which a policy that holds the request may write to first
   * (progress, an elicitation): absent for notifications, responses and batches.
   */
  readonly toClient?: ClientStream | undefined;
  /** The client declared form elicitation (2025 session clients, at initialize). */
  readonly clientElicits?: boolean | undefined;
  readonly log: Logger;
  /**
   * A federated API or virtual server: the server and original name behind a tool or prompt
   * name the agent used, or the server a resource URI belongs to (its original is the URI);
   * undefined when no server offers it. Absent for a single-server API, whose `server` is the server.
   */
  readonly targetOf?: ((kind: 'tools' | 'prompts' | 'resources', name: string) => { readonly server: string; readonly original: string } | undefined) | undefined;
  /** Decision trace of this exchange: which policy and rule allowed or refused what (logs, audit). */
  readonly trace: DecisionTrace[];
}

/** Messages from Gatehouse to the client on the answer stream of the request being decided. */
export interface ClientStream {
  /** Sends one message; false when the client has gone or the answer has begun otherwise. */
  send(message: JsonRpcMessage): boolean;
  /** The client has gone, or the answer has ended. */
  readonly gone: boolean;
}

export interface DecisionTrace {
  readonly policy: string;
  readonly method: string;
  readonly name?: string | undefined;
  readonly allowed: boolean;
  readonly rule?: string | undefined;
  readonly reason?: string | undefined;
  /** Federated APIs: the server the named item belongs to, and its name there. */
  readonly server?: string | undefined;
  readonly originalName?: string | undefined;
}

export type RequestDecision =
  | { action: 'allow' }
  | { action: 'rewrite'; message: JsonRpcMessage }
  | { action: 'deny'; error: GatehouseError | JsonRpcErrorObject; status?: number }
  /** Answer the request here (with a result or a JSON-RPC error), as the server would; nothing is forwarded. */
  | { action: 'respond'; response: JsonRpcResponse }
  /** The message was for Gatehouse itself (a client's answer to its elicitation, a cancel of a held call): taken in here, not forwarded. */
  | { action: 'consume' };

export interface Policy {
  readonly name: string;
  /** Client → server messages (requests, notifications, responses to server requests). */
  onRequest?(ctx: PolicyContext, message: JsonRpcMessage): RequestDecision | Promise<RequestDecision>;
  /**
   * Server → client messages. Return the message, a rewritten one, or undefined to drop it.
   * `request` is the request of this exchange with the answer's id; undefined for other messages
   * and for answers that match none (a stream resumed with Last-Event-ID replays answers to
   * requests of earlier exchanges): a policy must then judge the answer by what it holds.
   */
  onResponse?(ctx: PolicyContext, message: JsonRpcMessage, request: JsonRpcRequest | undefined): JsonRpcMessage | undefined;
  /**
   * onResponse depends only on the message, the principal and the config — not on the request,
   * the session or the time — so an answer equal to one seen before, for the same principal, may
   * get the rewrite remembered from then (answer-memo.ts) without the policy being asked.
   */
  readonly stableResponses?: boolean;
}

export const ALLOW: RequestDecision = Object.freeze({ action: 'allow' });

/** Runs the request side in order; the first deny wins; rewrites feed the next policy. */
export async function runRequestPolicies(
  policies: readonly Policy[],
  ctx: PolicyContext,
  message: JsonRpcMessage,
): Promise<{ message: JsonRpcMessage; denied?: Extract<RequestDecision, { action: 'deny' | 'respond' | 'consume' }> }> {
  let current = message;
  for (const policy of policies) {
    if (!policy.onRequest) continue;
    const decision = await policy.onRequest(ctx, current);
    if (decision.action === 'deny' || decision.action === 'respond' || decision.action === 'consume') return { message: current, denied: decision };
    if (decision.action === 'rewrite') current = decision.message;
  }
  return { message: current };
}

export type ResponseTransform = ((message: JsonRpcMessage) => JsonRpcMessage | undefined) & {
  /**
   * Present when every response policy is stable and the exchange asks for a list: rewrites of
   * equal answers to the requests in `ids` (idKey) are remembered per principal.
   */
  readonly memo?: { readonly answers: AnswerMemo; readonly principal: object; readonly ids: ReadonlySet<string> };
};

/** One memory of rewritten answers per compiled policy chain (a new config starts a new one). */
const memos = new WeakMap<readonly Policy[], AnswerMemo>();

function memoOf(policies: readonly Policy[]): AnswerMemo {
  let memo = memos.get(policies);
  if (memo === undefined) memos.set(policies, (memo = new AnswerMemo()));
  return memo;
}

/**
 * A transform over server → client messages, or undefined when no policy looks at them.
 * `requests` are the client requests of this exchange, so a response is judged knowing what it answers.
 */
export function responseTransform(policies: readonly Policy[], ctx: PolicyContext, requests: readonly JsonRpcMessage[] = []): ResponseTransform | undefined {
  const active = policies.filter((p) => p.onResponse);
  if (active.length === 0) return undefined;
  const byId = new Map<string, JsonRpcRequest>();
  let repeating: Set<string> | undefined;
  for (const message of requests) {
    if (!isRequest(message)) continue;
    byId.set(idKey(message.id), message);
    if (REPEATING_ANSWERS.has(message.method)) (repeating ??= new Set()).add(idKey(message.id));
  }
  const transform = (message: JsonRpcMessage): JsonRpcMessage | undefined => {
    const request = 'method' in message || message.id === null || message.id === undefined ? undefined : byId.get(idKey(message.id));
    let current: JsonRpcMessage | undefined = message;
    for (const policy of active) {
      if (current === undefined) return undefined;
      current = policy.onResponse!(ctx, current, request);
    }
    return current;
  };
  if (repeating === undefined || !active.every((p) => p.stableResponses === true)) return transform;
  return Object.assign(transform, { memo: { answers: memoOf(policies), principal: ctx.principal, ids: repeating } });
}
