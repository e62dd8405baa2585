// The list changes of a 2026-07-28 server that is a federation member: a `subscriptions/listen`
// stream (2026-07-28 has no standalone GET stream), asking for the list-changed notifications the
// server offers. Each one is passed on as the 2025 notification it is, without the subscription
// id (the federated session has one stream per server, and its client never asked for it). A
// stream the server ends is opened again, with the lists announced as changed (what changed in
// between was not seen); a server that cannot be reached twice in a row is reported lost, as a
// 2025 member's GET stream is, so that the session drops its items and starts it again.
import type { Logger } from '../../log.ts';
import { isObject, type JsonObject, type JsonRpcMessage } from '../../mcp/jsonrpc.ts';
import { SseParser } from '../../mcp/sse.ts';
import { STATELESS_VERSION } from '../../mcp/versions.ts';
import { routingHeaders } from '../../bridge/request-headers.ts';
import type { ModernTarget } from '../../bridge/modern-request.ts';

const FILTER_OF: Readonly<Record<string, { filter: string; method: string }>> = {
  tools: { filter: 'toolsListChanged', method: 'notifications/tools/list_changed' },
  prompts: { filter: 'promptsListChanged', method: 'notifications/prompts/list_changed' },
  resources: { filter: 'resourcesListChanged', method: 'notifications/resources/list_changed' },
};
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 8_000;
/** Failed connections in a row before the server counts as lost. */
const LOST_AFTER = 2;
/** Streams in a row that ended at once (no acknowledgement) before Gatehouse stops asking. */
const GIVE_UP_AFTER = 5;

export interface ListenCallbacks {
  readonly notification: (message: JsonRpcMessage) => void;
  readonly lost: (reason: string) => void;
}

/** The list kinds whose changes a server offers (`listChanged` in its capabilities). */
export function listChangedKinds(capabilities: JsonObject): string[] {
  return Object.keys(FILTER_OF).filter((kind) => isObject(capabilities[kind]) && (capabilities[kind] as JsonObject).listChanged === true);
}

/** Listens until `signal` aborts; resolves then (or when the server refuses listening). */
export async function listenForListChanges(target: ModernTarget, kinds: readonly string[], meta: JsonObject, signal: AbortSignal, log: Logger, on: ListenCallbacks): Promise<void> {
  if (kinds.length === 0) return;
  const notifications: JsonObject = {};
  for (const kind of kinds) notifications[FILTER_OF[kind]!.filter] = true;
  const relayed = new Set(kinds.map((kind) => FILTER_OF[kind]!.method));
  const params: JsonObject = { notifications, _meta: meta };
  let unreachable = 0;
  let unacknowledged = 0;
  let opened = 0;
  for (let id = 1; !signal.aborted; id++) {
    let acknowledged = false;
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          ...target.headers,
          ...(target.credentials ? await target.credentials.headers() : {}),
          ...routingHeaders('subscriptions/listen', params, undefined),
          'content-type': 'application/json',
          accept: 'text/event-stream, application/json',
          'mcp-protocol-version': STATELESS_VERSION,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: `gh-listen-${id}`, method: 'subscriptions/listen', params }),
        signal,
      });
      unreachable = 0;
      if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        void response.body?.cancel().catch(() => undefined);
        log.warn({ status: response.status }, 'the server refused subscriptions/listen: its list changes are not relayed');
        return;
      }
      const parser = new SseParser((event) => {
        if (event.data === '') return;
        let message: unknown;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (!isObject(message) || typeof message.method !== 'string' || 'id' in message) return;
        if (message.method === 'notifications/subscriptions/acknowledged') {
          acknowledged = true;
          unacknowledged = 0;
          // A stream opened again: what changed while none was open was not seen.
          if (opened++ > 0) for (const method of relayed) on.notification({ jsonrpc: '2.0', method });
          return;
        }
        if (relayed.has(message.method)) on.notification({ jsonrpc: '2.0', method: message.method });
      }, target.maxResponseBytes);
      const decoder = new TextDecoder();
      const reader = response.body?.getReader();
      for (;;) {
        const next = await reader?.read();
        if (!next || next.done) break;
        parser.push(decoder.decode(next.value, { stream: true }));
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!acknowledged && ++unreachable >= LOST_AFTER) return on.lost(`could not be reached (subscriptions/listen: ${(error as Error).message})`);
    }
    if (signal.aborted) return;
    if (!acknowledged && ++unacknowledged >= GIVE_UP_AFTER) {
      log.warn('subscriptions/listen keeps ending unacknowledged: the server\'s list changes are not relayed');
      return;
    }
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(unreachable, unacknowledged));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      timer.unref();
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}
