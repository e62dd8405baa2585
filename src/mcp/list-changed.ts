// The list_changed notifications of tools, resources and prompts. Gatehouse sends them itself
// when a reload changes what a client may see, so that the client lists again.
import type { JsonObject, JsonRpcId, JsonRpcNotification } from './jsonrpc.ts';

export const LIST_KINDS = ['tools', 'resources', 'prompts'] as const;
export type ListKind = (typeof LIST_KINDS)[number];

/** 2026-07-28: every notification on a `subscriptions/listen` stream names its subscription here. */
export const SUBSCRIPTION_ID_META_KEY = 'io.modelcontextprotocol/subscriptionId';

/** The `subscriptions/listen` filter field that opts in to each kind (2026-07-28). */
const LISTEN_FILTER_FIELD: Record<ListKind, string> = {
  tools: 'toolsListChanged',
  resources: 'resourcesListChanged',
  prompts: 'promptsListChanged',
};

/** `notifications/<kind>/list_changed`, carrying the subscription id on a listen stream. */
export function listChangedNotification(kind: ListKind, subscriptionId?: JsonRpcId): JsonRpcNotification {
  const message: JsonRpcNotification = { jsonrpc: '2.0', method: `notifications/${kind}/list_changed` };
  if (subscriptionId !== undefined) message.params = { _meta: { [SUBSCRIPTION_ID_META_KEY]: subscriptionId } };
  return message;
}

/** The kinds a `subscriptions/listen` request opted in to (its `params.notifications` filter). */
export function listenedKinds(params: JsonObject | undefined): ListKind[] {
  const filter = params?.notifications;
  if (typeof filter !== 'object' || filter === null) return [];
  return LIST_KINDS.filter((kind) => (filter as JsonObject)[LISTEN_FILTER_FIELD[kind]] === true);
}
