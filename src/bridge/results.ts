// A 2025 server's answer in 2026-07-28 shape: every result carries `resultType`; lists, reads and
// discovery carry the cache hints `ttlMs`/`cacheScope` (a 2025 server gives none: nothing may be
// cached, and per identity); vocabulary 2026-07-28 deleted (`execution` on tools, the `tasks`
// capability) is removed; the server's identity rides in the result's `_meta`.
import { isObject, type JsonObject, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import { SERVED_VERSIONS } from '../mcp/served-versions.ts';
import { META_SERVER_INFO } from './envelope.ts';

const CACHEABLE: ReadonlySet<string> = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read', 'server/discover']);

/** What a 2025 server said about itself at initialize. */
export interface LegacyInit {
  readonly protocolVersion: string;
  readonly capabilities: JsonObject;
  readonly serverInfo: JsonObject | undefined;
  readonly instructions: string | undefined;
}

/**
 * The result in 2026-07-28 shape. It is changed in place and returned: the bridge owns it (it
 * was decoded for this answer alone), and copying a list result's every tool to drop one member
 * cost more than decoding it (bench/README.md#era-bridging).
 */
export function modernResult(method: string, result: unknown, serverInfo: JsonObject | undefined): JsonObject {
  const out: JsonObject = isObject(result) ? result : {};
  if (out.resultType === undefined) out.resultType = 'complete';
  if (CACHEABLE.has(method) && out.resultType === 'complete') {
    if (typeof out.ttlMs !== 'number' || !Number.isInteger(out.ttlMs) || out.ttlMs < 0) out.ttlMs = 0;
    if (out.cacheScope !== 'public' && out.cacheScope !== 'private') out.cacheScope = 'private';
  }
  if (method === 'tools/list' && Array.isArray(out.tools)) {
    for (const tool of out.tools) if (isObject(tool) && 'execution' in tool) delete tool.execution;
  }
  if (serverInfo !== undefined) {
    const meta = out._meta;
    if (!isObject(meta)) out._meta = { [META_SERVER_INFO]: serverInfo };
    else if (meta[META_SERVER_INFO] === undefined) meta[META_SERVER_INFO] = serverInfo;
  }
  return out;
}

/** An answer Gatehouse writes itself (a policy's, in the server's place) for a 2026-07-28 client. */
export function withResultType(response: JsonRpcResponse): JsonRpcResponse {
  if (!isObject(response.result) || response.result.resultType !== undefined) return response;
  return { ...response, result: { ...response.result, resultType: 'complete' } };
}

/** `server/discover` answered from what the server said at initialize; the revisions are the API's (served-versions.ts). */
export function discoverResult(init: LegacyInit): JsonObject {
  const result: JsonObject = { supportedVersions: [...SERVED_VERSIONS], capabilities: modernCapabilities(init.capabilities) };
  if (init.instructions !== undefined) result.instructions = init.instructions;
  return modernResult('server/discover', result, init.serverInfo);
}

/**
 * Server capabilities as 2026-07-28 names them: tasks moved to an extension, offered when the server
 * runs tools/call as tasks (the only request the extension covers; modern-tasks.ts serves it).
 */
export function modernCapabilities(capabilities: JsonObject): JsonObject {
  const { tasks: _core, ...rest } = capabilities;
  if (offersToolTasks(capabilities)) rest.extensions = { ...(isObject(rest.extensions) ? rest.extensions : {}), [TASKS_EXTENSION]: {} };
  return rest;
}

/** The tasks extension's identifier (SEP-2663). */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** Whether a 2025 server runs `tools/call` as tasks (`capabilities.tasks.requests.tools.call`). */
export function offersToolTasks(capabilities: JsonObject): boolean {
  const tasks = capabilities.tasks;
  const requests = isObject(tasks) ? tasks.requests : undefined;
  const tools = isObject(requests) ? requests.tools : undefined;
  return isObject(tools) && isObject(tools.call);
}
