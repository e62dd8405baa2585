// The per-request `_meta` envelope of 2026-07-28 (protocol version, client capabilities, client
// info, log level), read from a client request, and the params a 2025 server is sent in its place:
// the envelope's reserved keys and the multi round-trip members removed, everything else kept.
import { isObject, type JsonObject } from '../mcp/jsonrpc.ts';

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

const RESERVED: ReadonlySet<string> = new Set([META_PROTOCOL_VERSION, META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL]);

export interface Envelope {
  /** The revision `_meta` names (undefined when absent: envelopeProblem refuses that). */
  readonly protocolVersion: string | undefined;
  readonly capabilities: JsonObject;
  readonly clientInfo: JsonObject;
  readonly logLevel: string | undefined;
}

const ANONYMOUS_CLIENT: JsonObject = Object.freeze({ name: 'unnamed-2026-client', version: '0' });

/**
 * Why a request cannot be served as 2026-07-28 asks, or undefined: `_meta` with the protocol
 * version and the client capabilities is required on every request (clientInfo is a SHOULD), and
 * a retry's `inputResponses` must be an object. A 2026-07-28 server refuses these with 400 and
 * -32602; the bridge answers the same, rather than filling in defaults.
 */
export function envelopeProblem(params: JsonObject | undefined): string | undefined {
  const meta = params?._meta;
  if (!isObject(meta)) return 'a 2026-07-28 request needs _meta';
  if (typeof meta[META_PROTOCOL_VERSION] !== 'string') return `_meta needs ${META_PROTOCOL_VERSION}`;
  if (!isObject(meta[META_CLIENT_CAPABILITIES])) return `_meta needs ${META_CLIENT_CAPABILITIES} (an object)`;
  if (params !== undefined && 'inputResponses' in params) {
    const responses = params.inputResponses;
    if (!isObject(responses)) return 'inputResponses must be an object';
    for (const [key, value] of Object.entries(responses)) if (!isObject(value)) return `inputResponses[${JSON.stringify(key)}] must be an object (a response to one input request)`;
  }
  return undefined;
}

/** What the client declared on this request (absent members: no capabilities, an unnamed client). */
export function readEnvelope(params: JsonObject | undefined): Envelope {
  const meta = params && isObject(params._meta) ? params._meta : undefined;
  const capabilities = meta && isObject(meta[META_CLIENT_CAPABILITIES]) ? meta[META_CLIENT_CAPABILITIES] : {};
  const info = meta && isObject(meta[META_CLIENT_INFO]) && typeof meta[META_CLIENT_INFO].name === 'string' ? meta[META_CLIENT_INFO] : ANONYMOUS_CLIENT;
  const level = meta?.[META_LOG_LEVEL];
  const version = meta?.[META_PROTOCOL_VERSION];
  return { protocolVersion: typeof version === 'string' ? version : undefined, capabilities, clientInfo: info, logLevel: typeof level === 'string' ? level : undefined };
}

/**
 * The params as a 2025 server expects them: without the envelope's reserved `_meta` keys (an
 * empty `_meta` is left out), without `inputResponses`/`requestState` (answered by Gatehouse, not
 * the server), without a 2025 task request (`task`: 2026-07-28 has none; whether a call runs as
 * a task is Gatehouse's decision, modern-tasks.ts), and undefined when nothing is left.
 */
export function legacyParams(params: JsonObject | undefined): JsonObject | undefined {
  if (params === undefined) return undefined;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(params)) {
    if (key === 'inputResponses' || key === 'requestState' || key === 'task') continue;
    if (key === '_meta' && isObject(value)) {
      const kept: JsonObject = {};
      for (const [metaKey, metaValue] of Object.entries(value)) if (!RESERVED.has(metaKey)) kept[metaKey] = metaValue;
      if (Object.keys(kept).length > 0) out._meta = kept;
      continue;
    }
    out[key] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
