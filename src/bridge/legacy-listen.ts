// The standalone GET stream of a 2025 client on a 2026-07-28-only server. 2026-07-28 has no such
// stream: a client asks for notifications with `subscriptions/listen`, one long POST whose filter
// names the list changes and the resources it wants. So the client's GET is served by a listen of
// Gatehouse's own (`server-listener.ts`, the one federation members use), with every list change
// and the resources the session subscribed to (`resources/subscribe`, kept by the bridge); a
// change of subscriptions opens a new listen beside the old one. The server's notifications reach
// the client's stream through the response policies. A listen the server ends is opened again
// (the lists announced as changed); when the server cannot be reached or refuses to listen, the
// client's stream ends (the client opens it again, as it does after any break). A reload that
// changes what the client may see is announced on the stream too (it is one of the open streams).
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { JsonObject, JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { formatSseEvent } from '../mcp/sse.ts';
import { listChangedNotification, type ListKind } from '../mcp/list-changed.ts';
import type { NotifiableStream } from '../upstream/open-streams.ts';
import type { ModernTarget } from './modern-request.ts';
import { ALL_LIST_KINDS, ServerListener } from './server-listener.ts';

const KEEP_ALIVE_MS = 15_000;

export interface ListenTarget {
  readonly target: () => ModernTarget;
  /** The request's `_meta` envelope (revision, client capabilities and info, log level). */
  readonly meta: () => JsonObject;
  readonly log: Logger;
}

/** One client's standalone stream, fed by the server's `subscriptions/listen`. */
export class LegacyStandaloneStream implements NotifiableStream {
  private closed = false;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly ended: Promise<void>;
  private end!: () => void;
  private readonly stopping = new AbortController();
  private readonly listener: ServerListener;

  constructor(
    private readonly res: ServerResponse,
    private readonly subscriptions: () => readonly string[],
    to: ListenTarget,
    /** The response policies of the client's GET; undefined when one dropped the message. */
    private readonly transform: (message: JsonRpcMessage) => JsonRpcMessage | undefined,
  ) {
    this.ended = new Promise((resolve) => (this.end = resolve));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    this.keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    this.keepAlive.unref();
    res.once('close', () => this.close());
    this.listener = new ServerListener(
      to.target,
      ALL_LIST_KINDS,
      to.meta,
      true,
      this.stopping.signal,
      to.log,
      {
        notification: (message) => this.deliver(message),
        lost: (reason) => {
          to.log.debug({ reason }, 'subscriptions/listen: the server was lost');
          this.close();
        },
        ended: () => this.close(),
        other: (message) => this.deliver(message),
      },
      subscriptions(),
    );
  }

  /** Serves until the client leaves or the server cannot be listened to. */
  run(): Promise<void> {
    this.listener.start();
    return this.ended;
  }

  /** The session's subscriptions changed: a listen with them opens. */
  refilter(): void {
    if (!this.closed) this.listener.setResources(this.subscriptions());
  }

  /** A reload's list changes (gateway.ts), through the response policies as the server's own. */
  listChanged(kinds: readonly ListKind[]): void {
    for (const kind of kinds) this.deliver(listChangedNotification(kind));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    this.stopping.abort();
    if (!this.res.writableEnded) this.res.end();
    this.end();
  }

  private deliver(message: JsonRpcMessage): void {
    if (this.closed) return;
    const out = this.transform(message);
    if (out) this.res.write(formatSseEvent(JSON.stringify(out), { event: 'message' }));
  }
}
