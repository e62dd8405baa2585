// The policy interface and the chain runner. Policies see decoded messages and a context; they
// never touch sockets. A policy with no onResponse leaves responses streaming untouched.
import type { GatehouseError } from '../errors.ts';
import type { JsonRpcErrorObject, JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { Principal } from '../auth/principal.ts';
import type { ProtocolVersion } from '../mcp/versions.ts';

export type Direction = 'client-to-server' | 'server-to-client';

export interface PolicyContext {
  readonly api: string;
  readonly server: string;
  readonly principal: Principal;
  readonly protocolVersion: ProtocolVersion;
  readonly sessionId: string | undefined;
  readonly request: { readonly headers: Readonly<Record<string, string | string[] | undefined>>; readonly remoteAddress: string | undefined };
}

export type RequestDecision =
  | { action: 'allow' }
  | { action: 'rewrite'; message: JsonRpcMessage }
  | { action: 'deny'; error: GatehouseError | JsonRpcErrorObject; status?: number };

export interface Policy {
  readonly name: string;
  /** Client → server messages (requests, notifications, responses to server requests). */
  onRequest?(ctx: PolicyContext, message: JsonRpcMessage): RequestDecision | Promise<RequestDecision>;
  /** Server → client messages. Return the message, a rewritten one, or undefined to drop it. */
  onResponse?(ctx: PolicyContext, message: JsonRpcMessage): JsonRpcMessage | undefined;
}

export const ALLOW: RequestDecision = Object.freeze({ action: 'allow' });

/** Runs the request side in order; the first deny wins; rewrites feed the next policy. */
export async function runRequestPolicies(
  policies: readonly Policy[],
  ctx: PolicyContext,
  message: JsonRpcMessage,
): Promise<{ message: JsonRpcMessage; denied?: Extract<RequestDecision, { action: 'deny' }> }> {
  let current = message;
  for (const policy of policies) {
    if (!policy.onRequest) continue;
    const decision = await policy.onRequest(ctx, current);
    if (decision.action === 'deny') return { message: current, denied: decision };
    if (decision.action === 'rewrite') current = decision.message;
  }
  return { message: current };
}

export type ResponseTransform = (message: JsonRpcMessage) => JsonRpcMessage | undefined;

/** A transform over server → client messages, or undefined when no policy looks at them. */
export function responseTransform(policies: readonly Policy[], ctx: PolicyContext): ResponseTransform | undefined {
  const active = policies.filter((p) => p.onResponse);
  if (active.length === 0) return undefined;
  return (message) => {
    let current: JsonRpcMessage | undefined = message;
    for (const policy of active) {
      if (current === undefined) return undefined;
      current = policy.onResponse!(ctx, current);
    }
    return current;
  };
}
