// The answer to one bridged request: one JSON message, unless something for the client comes
// before it (progress, log messages), in which case it becomes an SSE stream — as a 2026-07-28
// server answers in its `auto` mode.
import type { ServerResponse } from 'node:http';
import { errorResponse, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import { GatehouseError } from '../errors.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import { formatSseEvent } from '../mcp/sse.ts';
import { answerStatus, type ProtocolVersion } from '../mcp/versions.ts';
import { sendJson } from '../http/reply.ts';

export class BridgeReply {
  private streaming = false;
  finished = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly version: ProtocolVersion,
  ) {}

  /** Whether the answer became an SSE stream (its status is sent: a failure must be a message on it). */
  get streamed(): boolean {
    return this.streaming;
  }

  /** Whether the client is gone (nothing more can reach it). */
  get gone(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  /** A message before the answer: switches to SSE. */
  event(message: JsonRpcMessage): void {
    if (this.gone) return;
    this.openStream();
    this.res.write(formatSseEvent(JSON.stringify(message), { event: 'message' }));
  }

  /** The answer; the exchange ends. */
  final(message: JsonRpcResponse): void {
    if (this.finished) return;
    this.finished = true;
    if (this.gone) return;
    if (!this.streaming) return sendJson(this.res, answerStatus(this.version, message), message);
    this.res.end(formatSseEvent(JSON.stringify(message), { event: 'message' }));
  }

  /** An SSE stream that stays open (subscriptions/listen). */
  openStream(): void {
    if (this.streaming) return;
    this.streaming = true;
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
    this.res.flushHeaders();
  }

  /**
   * A failure of the request once its answer is a stream (the status is sent): written as its last
   * message, recorded on the exchange. False when the caller must throw it instead (the answer is
   * not a stream yet, or the failure is not one of Gatehouse's errors).
   */
  failedOnStream(id: JsonRpcId, error: unknown, record: ExchangeRecord | undefined): boolean {
    if (!this.streaming || !(error instanceof GatehouseError)) return false;
    if (record) record.error = error;
    this.final(errorResponse(id, error.rpc, error.message, { code: error.code }));
    return true;
  }

  /** A comment line that keeps an idle stream from being cut by intermediaries. */
  keepAlive(): void {
    if (!this.gone && this.streaming) this.res.write(': keepalive\n\n');
  }
}
