// What one HTTP exchange did, filled in along the request path when something observes it
// (audit, metrics). When nothing observes, no record exists and the path does no extra work.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import type { GatehouseError } from '../errors.ts';
import type { JsonRpcMessage, JsonRpcResponse } from '../mcp/jsonrpc.ts';
import type { DecisionTrace } from '../policy/policy.ts';
import type { Answer } from './answer.ts';

/** How much of a response body to keep: none (metadata only) or up to N bytes (payload logging). */
const ERROR_TAIL = 2048;

export class ExchangeRecord {
  readonly time = Date.now();
  readonly start = performance.now();
  api: string | undefined;
  principal: Principal | undefined;
  sessionId: string | undefined;
  messages: readonly JsonRpcMessage[] = [];
  trace: readonly DecisionTrace[] | undefined;
  /** The server that serves the exchange: the API's own; undefined for a federated API (see targets). */
  server: string | undefined;
  /**
   * A federated API or virtual server: per message (in `messages` order), the member server and
   * the original name (or URI) it was routed to; undefined where a message names none.
   */
  targets: ReadonlyArray<{ readonly server: string; readonly original: string } | undefined> | undefined;
  /**
   * The node this exchange was forwarded to (src/cluster/): that node observes it (audit, metrics,
   * traces), so this one does not, and nothing is recorded twice.
   */
  forwardedTo: string | undefined;
  /** The refusal Gatehouse answered with, if any. */
  error: GatehouseError | undefined;
  /** Answers a policy gave in the server's place. */
  answered: readonly JsonRpcResponse[] | undefined;
  bytesIn = 0;
  bytesOut = 0;
  upstreamStatus: number | undefined;
  /**
   * Whom the request goes to the upstream as when not the caller (a service identity; never a
   * token), from its connector; for a federated API, the members' that do, named.
   */
  upstreamIdentity: string | undefined;
  /** A federated API: per message (as `targets`), whom it goes to its member as when not the caller. */
  targetIdentities: ReadonlyArray<string | undefined> | undefined;
  /** W3C traceparent of Gatehouse's span for this exchange (tracing on): sent to HTTP upstreams. */
  traceparent: string | undefined;
  /** The final answer once read (`finalAnswer` in answer.ts): read once, shared by the observers. */
  answerRead = false;
  answer: Answer | undefined = undefined;
  private upstreamStart: number | undefined;
  private upstreamEnd: number | undefined;
  private chunks: Buffer[] = [];
  private kept = 0;

  constructor(
    readonly req: IncomingMessage,
    /** Bytes of the response body to keep; 0 keeps only a short tail to read an error code from. */
    readonly captureBytes: number,
  ) {}

  upstreamStarted(): void {
    this.upstreamStart ??= performance.now();
  }

  upstreamResponded(status: number): void {
    this.upstreamStatus = status;
  }

  upstreamEnded(): void {
    this.upstreamEnd = performance.now();
  }

  get upstreamMs(): number | undefined {
    if (this.upstreamStart === undefined) return undefined;
    return (this.upstreamEnd ?? performance.now()) - this.upstreamStart;
  }

  /** Raw response bytes on their way to the client (piped responses). */
  tap(chunk: Buffer): void {
    if (chunk.length === 0) return; // end(''): kept, it would make the tail two chunks to concatenate
    this.bytesOut += chunk.length;
    if (this.captureBytes > 0) {
      if (this.kept < this.captureBytes) {
        this.chunks.push(chunk);
        this.kept += chunk.length;
      }
      return;
    }
    // Metadata only: keep the last few KB, where the final JSON-RPC response sits.
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept - (this.chunks[0]?.length ?? 0) >= ERROR_TAIL && this.chunks.length > 1) this.kept -= this.chunks.shift()!.length;
  }

  /** The kept response bytes (tail or capture). */
  responseBytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }

  /** The kept response text (tail or capture). */
  responseText(): string {
    return this.responseBytes().toString('utf8');
  }
}

// The original methods, called with the arguments as given (Node's overloads are awkward to re-type).
const write = ServerResponse.prototype.write as (this: ServerResponse, ...args: unknown[]) => boolean;
const end = ServerResponse.prototype.end as (this: ServerResponse, ...args: unknown[]) => ServerResponse;

function tap(record: ExchangeRecord, chunk: unknown, encoding: unknown): void {
  if (typeof chunk === 'string') record.tap(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
  else if (Buffer.isBuffer(chunk)) record.tap(chunk);
  else if (chunk instanceof Uint8Array) record.tap(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
}

/**
 * The listener's responses: every byte written to one goes through `record.tap` when it has a
 * record. One place that sees piped upstream bodies, rewritten ones, channel streams and
 * Gatehouse's own answers alike. A class of its own (the server makes its responses with it)
 * rather than methods set on each response: responses keep one shape, and a request costs a
 * field, not three properties added.
 */
export class ObservedResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  record: ExchangeRecord | undefined = undefined;
}

ObservedResponse.prototype.write = function (this: ObservedResponse, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  if (this.record) tap(this.record, chunk, encoding);
  return write.call(this, chunk, encoding, callback);
} as typeof ObservedResponse.prototype.write;

ObservedResponse.prototype.end = function (this: ObservedResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ObservedResponse {
  if (this.record && typeof chunk !== 'function') tap(this.record, chunk, encoding);
  return end.call(this, chunk, encoding, callback) as ObservedResponse;
} as typeof ObservedResponse.prototype.end;
