// MCP protocol revisions Gatehouse serves, and what differs between them at the transport.
import type { JsonRpcResponse } from './jsonrpc.ts';

export const PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'] as const;
export type ProtocolVersion = (typeof PROTOCOL_VERSIONS)[number];

/** What a request without MCP-Protocol-Version is taken to speak (per the spec). */
export const DEFAULT_HEADERLESS_VERSION: ProtocolVersion = '2025-03-26';
export const STATELESS_VERSION: ProtocolVersion = '2026-07-28';

const supported: ReadonlySet<string> = new Set(PROTOCOL_VERSIONS);

export function isSupportedVersion(value: string): value is ProtocolVersion {
  return supported.has(value);
}

/** JSON-RPC batches were removed in 2025-06-18. */
export function allowsBatches(version: ProtocolVersion): boolean {
  return version === '2025-03-26' || version === '2024-11-05';
}

/** 2026-07-28 has no initialize and no sessions; requests carry Mcp-Method/Mcp-Name headers. */
export function isStateless(version: ProtocolVersion): boolean {
  return version >= STATELESS_VERSION;
}

/**
 * The HTTP status of an answer written in the server's place: 2026-07-28 answers a method the
 * server does not implement with 404 (and -32601); every other answer is 200.
 */
export function answerStatus(version: ProtocolVersion, answer: JsonRpcResponse): number {
  return isStateless(version) && answer.error?.code === -32601 ? 404 : 200;
}
