// Which held call a client's later message is about. A client cancels a held call by its own
// request id, and answers Gatehouse's elicitation by Gatehouse's request id: both are only
// meaningful on the same API and session (for sessionless clients, the same principal), so that
// is part of every key: nobody else can cancel or answer a call.
import { idKey, type JsonRpcId } from '../../mcp/jsonrpc.ts';
import type { PolicyContext } from '../policy.ts';

export class ClientKeys {
  /** Held calls by API, session and the client's request id → approval id. */
  private readonly requests = new Map<string, string>();
  /** Gatehouse's elicitation requests by API, session and their id → approval id. */
  private readonly questions = new Map<string, string>();

  holdRequest(ctx: PolicyContext, id: JsonRpcId, approval: string): () => void {
    const key = clientKey(ctx, id);
    this.requests.set(key, approval);
    return () => {
      if (this.requests.get(key) === approval) this.requests.delete(key);
    };
  }

  requestOf(ctx: PolicyContext, id: JsonRpcId): string | undefined {
    return this.requests.get(clientKey(ctx, id));
  }

  askUser(ctx: PolicyContext, id: string, approval: string): () => void {
    const key = clientKey(ctx, id);
    this.questions.set(key, approval);
    return () => this.questions.delete(key);
  }

  /** The approval a client's answer is for, once: an answer given twice decides nothing more. */
  takeAnswer(ctx: PolicyContext, id: JsonRpcId): string | undefined {
    const key = clientKey(ctx, id);
    const approval = this.questions.get(key);
    this.questions.delete(key);
    return approval;
  }
}

function clientKey(ctx: PolicyContext, id: JsonRpcId): string {
  return `${ctx.api}\n${ctx.sessionId ?? `principal:${ctx.principal.key}`}\n${idKey(id)}`;
}
