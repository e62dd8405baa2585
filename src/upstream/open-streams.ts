// Client sessions and streams Gatehouse can still speak to on its own, by API. A reload that
// changes what an API's clients may see walks them to say `notifications/*/list_changed`; the
// request path only adds and removes entries when a long-lived stream opens and ends.
//
// What is reachable:
// - a session of a stdio or HTTP+SSE server (channel-session.ts): Gatehouse writes its streams
//   itself, so the notification goes where other server notifications go (standalone stream,
//   else the newest POST stream, else the backlog delivered when a stream opens);
// - the standalone GET stream of a Streamable HTTP session, piped from the upstream: the event
//   goes in between the upstream's events (SseInjector);
// - a 2026-07-28 `subscriptions/listen` stream: the same, for the kinds the client opted in to,
//   carrying its subscription id, and only after the upstream's acknowledgment.
// A Streamable HTTP session with no GET stream open has nothing Gatehouse can write to.
import type { ServerResponse } from 'node:http';
import { formatSseEvent } from '../mcp/sse.ts';
import { listChangedNotification, type ListKind } from '../mcp/list-changed.ts';
import type { JsonRpcId } from '../mcp/jsonrpc.ts';

export interface NotifiableStream {
  /** Tells the client that these lists may have changed. */
  listChanged(kinds: readonly ListKind[]): void;
}

export class OpenStreams {
  private readonly byApi = new Map<string, Set<NotifiableStream>>();

  /** Registers a stream of an API's client; returns what unregisters it. */
  add(api: string, stream: NotifiableStream): () => void {
    let set = this.byApi.get(api);
    if (!set) this.byApi.set(api, (set = new Set()));
    set.add(stream);
    return () => {
      set.delete(stream);
      if (set.size === 0 && this.byApi.get(api) === set) this.byApi.delete(api);
    };
  }

  /** Tells every open stream of `api`; returns how many there were. */
  listChanged(api: string, kinds: readonly ListKind[]): number {
    const set = this.byApi.get(api);
    if (!set || kinds.length === 0) return 0;
    for (const stream of [...set]) stream.listChanged(kinds);
    return set.size;
  }

  count(api: string): number {
    return this.byApi.get(api)?.size ?? 0;
  }
}

/**
 * Gatehouse's own events on an SSE response whose events come from the upstream. The relay and
 * the rewriter write only whole events into the response, so between two of their writes the
 * stream is at an event boundary. Events carry no id: the client's Last-Event-ID stays the
 * upstream's, so resumption is unaffected.
 */
export class SseInjector implements NotifiableStream {
  private ready: boolean;
  private held: string[] = [];

  /** `listen`: a 2026-07-28 subscription, told only the kinds it opted in to, after its acknowledgment. */
  constructor(
    private readonly res: ServerResponse,
    private readonly listen?: { readonly id: JsonRpcId; readonly kinds: readonly ListKind[] },
  ) {
    this.ready = listen === undefined;
  }

  /** Called by the relay after it wrote upstream events: the first is a listen stream's acknowledgment. */
  readonly eventsWritten = (): void => {
    if (this.ready) return;
    this.ready = true;
    for (const event of this.held.splice(0)) this.write(event);
  };

  listChanged(kinds: readonly ListKind[]): void {
    for (const kind of kinds) {
      if (this.listen && !this.listen.kinds.includes(kind)) continue;
      const event = formatSseEvent(JSON.stringify(listChangedNotification(kind, this.listen?.id)), { event: 'message' });
      if (this.ready) this.write(event);
      else this.held.push(event);
    }
  }

  private write(event: string): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(event);
  }
}
