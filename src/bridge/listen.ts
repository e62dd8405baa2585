// `subscriptions/listen` for a 2025 server: the stream is Gatehouse's own; the resources it names
// are subscribed on the bridged session (`resources/subscribe`, shared by the listen streams of
// that session), and the server's notifications — on its GET stream or its stdout — are written
// to each stream whose filter takes them, tagged with the subscription id (the listen request's
// id), through the response policies (an ACL drops updates of resources the agent may not see).
// The list changes a reload makes for the API's clients (gateway.ts) reach the stream the same
// way: it is registered with the open streams while it lasts.
import { errorResponse, isObject, type JsonObject, type JsonRpcMessage, type JsonRpcRequest } from '../mcp/jsonrpc.ts';
import { listChangedNotification } from '../mcp/list-changed.ts';
import type { PostExchange } from '../upstream/upstream.ts';
import { META_SUBSCRIPTION_ID } from './envelope.ts';
import type { LegacySession } from './legacy-session.ts';
import type { ModernClientBridge } from './modern-client.ts';
import { BridgeReply } from './reply.ts';

const KEEP_ALIVE_MS = 15_000;

interface Filter {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
}

export async function serveListen(bridge: ModernClientBridge, x: PostExchange, session: LegacySession, request: JsonRpcRequest): Promise<void> {
  const reply = new BridgeReply(x.res, x.protocolVersion);
  const requested = request.params?.notifications;
  if (!isObject(requested)) {
    return reply.final(errorResponse(request.id, -32602, "Invalid params: 'notifications' is required and must be a subscription filter"));
  }
  const capabilities = session.init?.capabilities ?? {};
  const offers = (kind: string, bit: string) => isObject(capabilities[kind]) && (capabilities[kind] as JsonObject)[bit] === true;
  // A list the server has can change on a reload (what the agent may see of it), which Gatehouse
  // announces itself: honored whether or not the server says `listChanged` of its own lists.
  const has = (kind: string) => isObject(capabilities[kind]);
  const honored: Filter = {};
  if (requested.toolsListChanged === true && has('tools')) honored.toolsListChanged = true;
  if (requested.promptsListChanged === true && has('prompts')) honored.promptsListChanged = true;
  if (requested.resourcesListChanged === true && has('resources')) honored.resourcesListChanged = true;
  const uris = Array.isArray(requested.resourceSubscriptions) ? requested.resourceSubscriptions.filter((u): u is string => typeof u === 'string') : [];
  if (uris.length > 0 && offers('resources', 'subscribe')) {
    const accepted: string[] = [];
    for (const uri of new Set(uris)) if (await session.subscribe(uri, bridge.pool.responseTimeout)) accepted.push(uri);
    if (accepted.length > 0) honored.resourceSubscriptions = accepted;
  }
  const subscriptionId = request.id;
  const tagged = (message: JsonRpcMessage & { method: string; params?: JsonObject }): JsonRpcMessage => {
    const params = message.params ?? {};
    return { jsonrpc: '2.0', method: message.method, params: { ...params, _meta: { ...(isObject(params._meta) ? params._meta : {}), [META_SUBSCRIPTION_ID]: subscriptionId } } };
  };
  const key = bridge.key(x, request.id);
  let closed = false;
  let keepAlive: NodeJS.Timeout | undefined;
  let unregister: (() => void) | undefined;
  const listener = (message: JsonRpcMessage) => {
    if (!('method' in message) || !accepts(honored, message)) return;
    const out = bridge.transformed(x, tagged(message));
    if (out) reply.event(out);
  };
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    session.listeners.delete(listener);
    unregister?.();
    bridge.listens.delete(key);
    for (const uri of honored.resourceSubscriptions ?? []) session.unsubscribe(uri, bridge.pool.responseTimeout);
    if (!reply.gone) x.res.end();
  };
  x.record?.upstreamResponded(200);
  reply.event(tagged({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: honored as JsonObject } }));
  if (Object.keys(honored).length === 0) {
    // Nothing to deliver: the subscription ends at once, gracefully.
    return reply.final({ jsonrpc: '2.0', id: request.id, result: { resultType: 'complete', _meta: { [META_SUBSCRIPTION_ID]: subscriptionId } } });
  }
  session.listeners.add(listener);
  // Registered after the acknowledgment, so a reload's notice never comes before it; the filter
  // (accepts) keeps the kinds the stream opted in to.
  unregister = bridge.openStreams?.add(x.api, { listChanged: (kinds) => kinds.forEach((kind) => listener(listChangedNotification(kind))) });
  bridge.listens.set(key, close);
  keepAlive = setInterval(() => reply.keepAlive(), KEEP_ALIVE_MS);
  keepAlive.unref();
  await new Promise<void>((resolve) => {
    if (reply.gone) return resolve();
    x.res.once('close', () => resolve());
    session.onEndedOnce(() => resolve());
  });
  close();
}

function accepts(filter: Filter, message: { method: string; params?: JsonObject }): boolean {
  switch (message.method) {
    case 'notifications/tools/list_changed':
      return filter.toolsListChanged === true;
    case 'notifications/prompts/list_changed':
      return filter.promptsListChanged === true;
    case 'notifications/resources/list_changed':
      return filter.resourcesListChanged === true;
    case 'notifications/resources/updated':
      return typeof message.params?.uri === 'string' && (filter.resourceSubscriptions ?? []).includes(message.params.uri);
    default:
      return false;
  }
}
