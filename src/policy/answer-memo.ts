// Remembers how the response policies rewrote an answer, for one principal: agents list the same
// tools, resources and prompts again and again, and rewriting a list means parsing it, deciding
// every item and serializing it again. When every response policy says its rewrite depends only
// on the message, the principal and the config (Policy.stableResponses), an answer whose text
// equals one seen before, but for its id, gets the same text back.
//
// An answer is keyed by its text without its trailing `"id":…}` member, which is where servers
// that serialize with JSON.stringify put it (result, jsonrpc, id). Answers written otherwise are
// simply not remembered. The memory is bounded in bytes for all principals together and starts
// again when full; a new config makes a new memory (the chain is compiled anew).
import type { JsonRpcId } from '../mcp/jsonrpc.ts';

/** Requests whose answers repeat (lists): only these are remembered; a tool's answers rarely do. */
export const REPEATING_ANSWERS: ReadonlySet<string> = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']);

/** Longest answer text remembered, and all remembered text together, in UTF-16 code units. */
const MAX_ENTRY_CHARS = 512 * 1024;
const MAX_TOTAL_CHARS = 16 * 1024 * 1024;
/** Trailing `,"id":42}` or `,"id":"abc"}` (a string id without escapes). */
const TRAILING_ID = /,"id":(-?\d{1,16}|"[^"\\]{0,200}")\}$/;

/** The answer text cut before its id, and the id. */
export interface SplitAnswer {
  readonly body: string;
  readonly suffix: string;
  readonly id: JsonRpcId;
}

export function splitTrailingId(text: string): SplitAnswer | undefined {
  // The id sits in the last few hundred characters: do not run the pattern over a whole list.
  const tail = text.length > 256 ? text.slice(-256) : text;
  const match = TRAILING_ID.exec(tail);
  if (!match) return undefined;
  const token = match[1]!;
  const id: JsonRpcId = token.startsWith('"') ? token.slice(1, -1) : Number(token);
  if (typeof id === 'number' && !Number.isSafeInteger(id)) return undefined;
  return { body: text.slice(0, text.length - match[0].length), suffix: match[0], id };
}

/** All principals' memories under one compiled policy chain: body text in → body text out. */
export class AnswerMemo {
  private byPrincipal = new WeakMap<object, Map<string, string>>();
  private chars = 0;

  /** The rewritten body remembered for this body, if any. */
  lookup(principal: object, body: string): string | undefined {
    return this.byPrincipal.get(principal)?.get(body);
  }

  /** Records a rewrite (`out` is the whole rewritten text; it must end with the same id). */
  remember(principal: object, split: SplitAnswer, out: string): void {
    if (split.body.length > MAX_ENTRY_CHARS || !out.endsWith(split.suffix)) return;
    const outBody = out.slice(0, out.length - split.suffix.length);
    const size = split.body.length + outBody.length;
    if (this.chars + size > MAX_TOTAL_CHARS) {
      // Full: start again (principals no longer seen go with the old map).
      this.byPrincipal = new WeakMap();
      this.chars = 0;
    }
    this.chars += size;
    let memo = this.byPrincipal.get(principal);
    if (memo === undefined) this.byPrincipal.set(principal, (memo = new Map()));
    memo.set(split.body, outBody);
  }
}
