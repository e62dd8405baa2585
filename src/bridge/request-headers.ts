// The routing headers a 2026-07-28 server requires on each request Gatehouse sends it for a 2025
// client: `Mcp-Method`, `Mcp-Name` (for the methods that name an item) and `Mcp-Param-<Name>` for
// the arguments a tool marks `x-mcp-header` in its input schema (SEP-2243). The server checks them
// against the body (400, -32020), so they are derived from the very body that is sent.
import { isObject, type JsonObject } from '../mcp/jsonrpc.ts';

/** The body field `Mcp-Name` mirrors, per method. */
const NAME_SOURCE: Readonly<Record<string, string>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri', 'tasks/get': 'taskId', 'tasks/update': 'taskId', 'tasks/cancel': 'taskId' };

/** One `x-mcp-header` declaration: where the argument sits, and the header's name. */
export interface ParamHeader {
  readonly path: readonly string[];
  readonly header: string;
}

export function routingHeaders(method: string, params: JsonObject | undefined, declarations: readonly ParamHeader[] | undefined): Record<string, string> {
  const out: Record<string, string> = { 'mcp-method': method };
  const field = Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method]! : undefined;
  const name = field && params ? params[field] : undefined;
  if (typeof name === 'string') out['mcp-name'] = headerValue(name);
  if (declarations && isObject(params?.arguments)) {
    for (const { path, header } of declarations) {
      let value: unknown = params.arguments;
      for (const key of path) value = isObject(value) ? value[key] : undefined;
      const text = primitive(value);
      if (text !== undefined) out[`mcp-param-${header.toLowerCase()}`] = headerValue(text);
    }
  }
  return out;
}

/** The `x-mcp-header` declarations of a tool's input schema (reachable through `properties` only). */
export function paramHeaders(inputSchema: unknown): ParamHeader[] {
  const out: ParamHeader[] = [];
  const walk = (schema: unknown, path: string[]): void => {
    if (!isObject(schema) || !isObject(schema.properties)) return;
    for (const [key, property] of Object.entries(schema.properties)) {
      if (!isObject(property)) continue;
      const header = property['x-mcp-header'];
      if (typeof header === 'string' && header !== '') out.push({ path: [...path, key], header });
      walk(property, [...path, key]);
    }
  };
  walk(inputSchema, []);
  return out;
}

function primitive(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))) return String(value);
  return undefined;
}

/** A value as a header carries it: plain when it is safe ASCII, `=?base64?…?=` otherwise. */
export function headerValue(value: string): string {
  return needsBase64(value) ? `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=` : value;
}

function needsBase64(value: string): boolean {
  if (value === '' || value !== value.trim()) return true;
  if (value.startsWith('=?base64?') && value.endsWith('?=')) return true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 9 && (c < 32 || c > 126)) return true;
  }
  return false;
}
