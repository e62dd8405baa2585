// The revisions an API of Gatehouse serves, as its `server/discover` says them. Gatehouse is the
// server a client talks to, and it bridges the eras (a 2025 client onto a 2026-07-28-only server,
// a 2026-07-28 client onto a 2025 one), so an API serves every revision Gatehouse knows whatever
// its server speaks: its discovery lists them all, as its -32022 UnsupportedProtocolVersion does,
// so that a client picking a revision from either finds the same choice.
import { isObject, isRequest, type JsonRpcMessage } from './jsonrpc.ts';
import { PROTOCOL_VERSIONS } from './versions.ts';

/** What `server/discover` and -32022 list: newest last, as PROTOCOL_VERSIONS is written. */
export const SERVED_VERSIONS: readonly string[] = PROTOCOL_VERSIONS;

type Transform = (message: JsonRpcMessage) => JsonRpcMessage | undefined;

/**
 * `next` with a forwarded `server/discover` answer's supportedVersions made the API's: only for an
 * exchange that asks for discovery (any other keeps `next` untouched, and its answer streaming).
 */
export function discoverServedVersions<T extends Transform>(next: T | undefined, requests: readonly JsonRpcMessage[]): T | Transform | undefined {
  // Every exchange passes here: nothing is allocated unless it asks for discovery.
  let ids: Set<string | number> | undefined;
  for (const message of requests) if (isRequest(message) && message.method === 'server/discover' && message.id !== null) (ids ??= new Set()).add(message.id);
  if (ids === undefined) return next;
  const asked = ids;
  return (message) => {
    const current = next ? next(message) : message;
    if (current === undefined || 'method' in current || current.id === null || current.id === undefined || !asked.has(current.id)) return current;
    if (!isObject(current.result)) return current;
    return { ...current, result: { ...current.result, supportedVersions: [...SERVED_VERSIONS] } };
  };
}
