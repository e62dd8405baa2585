// The standalone GET stream of a 2025 client on a 2026-07-28-only server. 2026-07-28 has no such
// stream: a client asks for notifications with `subscriptions/listen`, one long POST whose filter
// names the list changes and the resources it wants. So the client's GET is served by a listen of
// Gatehouse's own, with every list change and the resources the session subscribed to
// (`resources/subscribe`, kept here); a change of subscriptions starts the listen again with the
// new filter. The server's notifications reach the client's stream without their subscription
// tag, through the response policies; when the server ends the listen, the stream ends (the client
// opens it again, as it does after any break).
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import { isObject, type JsonObject, type JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { formatSseEvent } from '../mcp/sse.ts';
import { META_SUBSCRIPTION_ID } from './envelope.ts';
import { sendModern, type ModernTarget } from './modern-request.ts';

const KEEP_ALIVE_MS = 15_000;

export interface ListenTarget {
  readonly target: () => ModernTarget;
  /** The request's `_meta` envelope (revision, client capabilities and info, log level). */
  readonly meta: () => JsonObject;
  readonly log: Logger;
}

/** One client's standalone stream, fed by the server's `subscriptions/listen`. */
export class LegacyStandaloneStream {
  private controller: AbortController | undefined;
  private closed = false;
  private listenId = 0;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly ended: Promise<void>;
  private end!: () => void;

  constructor(
    private readonly res: ServerResponse,
    private readonly subscriptions: () => readonly string[],
    private readonly to: ListenTarget,
    /** The response policies of the client's GET; undefined when one dropped the message. */
    private readonly transform: (message: JsonRpcMessage) => JsonRpcMessage | undefined,
  ) {
    this.ended = new Promise((resolve) => (this.end = resolve));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    this.keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    this.keepAlive.unref();
    res.once('close', () => this.close());
  }

  /** Serves until the client leaves or the server ends the listen. */
  run(): Promise<void> {
    this.listen();
    return this.ended;
  }

  /** The session's subscriptions changed: the listen starts again with them. */
  refilter(): void {
    if (this.closed) return;
    this.controller?.abort();
    this.listen();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    this.controller?.abort();
    if (!this.res.writableEnded) this.res.end();
    this.end();
  }

  private listen(): void {
    const controller = new AbortController();
    this.controller = controller;
    const id = `gatehouse-listen-${++this.listenId}`;
    const uris = this.subscriptions();
    const notifications: JsonObject = { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true };
    if (uris.length > 0) notifications.resourceSubscriptions = [...uris];
    sendModern(this.to.target(), { id, method: 'subscriptions/listen', params: { notifications, _meta: this.to.meta() } }, controller.signal, (message) => this.deliver(message), { untimed: true }).then(
      (outcome) => {
        if (controller.signal.aborted || this.closed) return;
        // The server ended its listen (or refused it): the client's stream ends too.
        if (outcome?.response.error) this.to.log.debug({ error: outcome.response.error }, 'subscriptions/listen refused by the server');
        this.close();
      },
      (error: unknown) => {
        if (controller.signal.aborted || this.closed) return;
        this.to.log.debug({ err: error }, 'subscriptions/listen failed');
        this.close();
      },
    );
  }

  private deliver(message: JsonRpcMessage): void {
    if (this.closed || !('method' in message) || message.method === 'notifications/subscriptions/acknowledged') return;
    const params = message.params;
    let plain: JsonRpcMessage = message;
    if (isObject(params) && isObject(params._meta) && META_SUBSCRIPTION_ID in params._meta) {
      const { [META_SUBSCRIPTION_ID]: _tag, ...meta } = params._meta;
      const { _meta: _old, ...rest } = params;
      plain = { jsonrpc: '2.0', method: message.method, params: Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest };
    }
    const out = this.transform(plain);
    if (out) this.res.write(formatSseEvent(JSON.stringify(out), { event: 'message' }));
  }
}
