// Message classification: which MCP feature a method belongs to and which item it names.
// Used for routing headers (2026-07-28), logs, and by policies.
import type { JsonRpcMessage } from './jsonrpc.ts';
import { isObject } from './jsonrpc.ts';

export type Feature = 'tools' | 'resources' | 'prompts' | 'completion' | 'tasks' | 'lifecycle' | 'logging' | 'sampling' | 'elicitation' | 'roots' | 'notification' | 'other';

const FEATURE_BY_PREFIX: ReadonlyArray<readonly [string, Feature]> = [
  ['tools/', 'tools'],
  ['resources/', 'resources'],
  ['prompts/', 'prompts'],
  ['completion/', 'completion'],
  ['tasks/', 'tasks'],
  ['logging/', 'logging'],
  ['sampling/', 'sampling'],
  ['elicitation/', 'elicitation'],
  ['roots/', 'roots'],
  ['notifications/', 'notification'],
];

export function featureOf(method: string): Feature {
  if (method === 'initialize' || method === 'ping' || method === 'server/discover') return 'lifecycle';
  for (const [prefix, feature] of FEATURE_BY_PREFIX) if (method.startsWith(prefix)) return feature;
  return 'other';
}

/**
 * The item a message names: the tool or prompt name, the resource URI, or the completion's
 * reference. Undefined when the method names no item or the param is missing or not a string.
 */
export function targetOf(message: JsonRpcMessage): string | undefined {
  if (!('method' in message)) return undefined;
  const params = message.params;
  if (!isObject(params)) return undefined;
  switch (message.method) {
    case 'tools/call':
    case 'prompts/get':
      return typeof params.name === 'string' ? params.name : undefined;
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
    case 'notifications/resources/updated':
      return typeof params.uri === 'string' ? params.uri : undefined;
    case 'completion/complete': {
      const ref = params.ref;
      if (!isObject(ref)) return undefined;
      if (typeof ref.name === 'string') return ref.name;
      return typeof ref.uri === 'string' ? ref.uri : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The tool, prompt or resource a client request is about, with its kind: a tool or prompt by
 * name, a resource (or a completion's template reference) by URI. Undefined for requests about
 * no one item (lists, initialize, …).
 */
export function itemOf(message: JsonRpcMessage): { kind: 'tools' | 'prompts' | 'resources'; name: string } | undefined {
  if (!('method' in message) || !isObject(message.params)) return undefined;
  const params = message.params;
  switch (message.method) {
    case 'tools/call':
      return typeof params.name === 'string' ? { kind: 'tools', name: params.name } : undefined;
    case 'prompts/get':
      return typeof params.name === 'string' ? { kind: 'prompts', name: params.name } : undefined;
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return typeof params.uri === 'string' ? { kind: 'resources', name: params.uri } : undefined;
    case 'completion/complete': {
      const ref = isObject(params.ref) ? params.ref : undefined;
      if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') return { kind: 'prompts', name: ref.name };
      if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') return { kind: 'resources', name: ref.uri };
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The progress token a request asks progress for, if any. */
export function progressTokenOf(message: JsonRpcMessage): string | number | undefined {
  if (!('method' in message) || !isObject(message.params)) return undefined;
  const meta = message.params._meta;
  if (!isObject(meta)) return undefined;
  const token = meta.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}
