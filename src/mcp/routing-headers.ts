// The routing headers of 2026-07-28 requests (SEP-2243): `Mcp-Method`, `Mcp-Name` (for the methods
// that name an item) and `Mcp-Param-<Name>` for the arguments a tool marks `x-mcp-header` in its
// input schema. Both directions: Gatehouse derives them from the very body it sends a 2026-07-28
// server for a 2025 client, and checks those of a 2026-07-28 client against the body (400, -32020)
// where it is the server the client talks to.
import type { IncomingHttpHeaders } from 'node:http';
import { GatehouseError } from '../errors.ts';
import { targetOf } from './classify.ts';
import { isObject, isRequest, type JsonObject, type JsonRpcMessage } from './jsonrpc.ts';

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

/**
 * The `x-mcp-header` declarations of a tool's input schema: properties reachable through a chain
 * of `properties` keys only. Gatehouse sends what it finds (the server is the judge of its own
 * schema); for checking a client's headers, see `checkedParamHeaders`.
 */
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

/** RFC 9110 token: what an `x-mcp-header` name must be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The property types the specification admits under `x-mcp-header`. */
const HEADER_TYPES: ReadonlySet<unknown> = new Set(['string', 'integer', 'boolean']);

/**
 * The declarations a server enforces: those of a valid definition. A tool whose declarations break
 * the specification's rules (a name that is not a token, a repeated name, a non-primitive type) is
 * invalid, and its headers are not enforced — clients drop such a tool anyway. An annotation
 * under `items`, a composition or a `$ref` is not reachable and is simply never found here.
 */
export function checkedParamHeaders(inputSchema: unknown): readonly ParamHeader[] {
  const found = paramHeaders(inputSchema);
  const seen = new Set<string>();
  for (const { path, header } of found) {
    const lower = header.toLowerCase();
    if (!TOKEN.test(header) || seen.has(lower)) return NONE;
    seen.add(lower);
    let property: unknown = inputSchema;
    for (const key of path) property = isObject(property) && isObject(property.properties) ? property.properties[key] : undefined;
    if (!isObject(property) || !HEADER_TYPES.has(property.type)) return NONE;
  }
  return found;
}

const NONE: readonly ParamHeader[] = Object.freeze([]);

/**
 * A 2026-07-28 client's `Mcp-Param-*` headers against the arguments of its `tools/call`: each
 * declared argument present in the body (not null) needs its header, decoding to the same value
 * (integers compared as numbers). A header for an argument the body lacks is ignored.
 */
export function checkParamHeaders(declarations: readonly ParamHeader[], args: unknown, headers: IncomingHttpHeaders): void {
  for (const { path, header } of declarations) {
    let value: unknown = args;
    for (const key of path) value = isObject(value) ? value[key] : undefined;
    const text = primitive(value);
    if (text === undefined) continue;
    const name = `mcp-param-${header.toLowerCase()}`;
    const sent = headers[name];
    if (Array.isArray(sent)) throw new GatehouseError('GH_BAD_HEADER', `Bad Request: Mcp-Param-${header} must be sent once`);
    if (sent === undefined) throw new GatehouseError('GH_HEADER_MISMATCH', `Bad Request: the body carries ${path.join('.')}=${JSON.stringify(value)} but the Mcp-Param-${header} header is absent`);
    const decoded = decodeHeaderValue(sent);
    if (decoded === undefined) throw new GatehouseError('GH_HEADER_MISMATCH', `Bad Request: the Mcp-Param-${header} header carries an invalid Base64 value`);
    const same = typeof value === 'number' && /^-?\d+(\.\d+)?$/.test(decoded) ? Number(decoded) === value : decoded === text;
    if (!same) throw new GatehouseError('GH_HEADER_MISMATCH', `Bad Request: the Mcp-Param-${header} header decodes to ${JSON.stringify(decoded)} but the body carries ${path.join('.')}=${JSON.stringify(value)}`);
  }
}

/** Methods whose item the client must name in `Mcp-Name` as well as in the body. */
const NAMED_METHODS: ReadonlySet<string> = new Set(Object.keys(NAME_SOURCE));

/**
 * A 2026-07-28 request's `Mcp-Method` and `Mcp-Name` against its body. `Mcp-Name` may be left out
 * only when the body names nothing: a server (Gatehouse here) must refuse a request whose header is
 * missing while its body carries the value, since an intermediary may have routed on the header.
 */
export function checkRoutingHeaders(headers: IncomingHttpHeaders, message: JsonRpcMessage): void {
  if (!('method' in message)) return;
  const method = single(headers, 'mcp-method');
  if (method !== undefined && method !== message.method) {
    throw new GatehouseError('GH_HEADER_MISMATCH', `Bad Request: Mcp-Method "${method}" does not match the body's method "${message.method}"`);
  }
  if (method === undefined && isRequest(message)) {
    throw new GatehouseError('GH_HEADER_MISMATCH', 'Bad Request: 2026-07-28 requests must carry an Mcp-Method header');
  }
  const name = single(headers, 'mcp-name');
  const target = TASK_NAME_METHODS.has(message.method) && isObject(message.params) && typeof message.params.taskId === 'string' ? message.params.taskId : targetOf(message);
  if (name === undefined) {
    if (target !== undefined && isRequest(message) && NAMED_METHODS.has(message.method)) {
      throw new GatehouseError('GH_HEADER_MISMATCH', `Bad Request: ${message.method} names ${JSON.stringify(target)} in its body but carries no Mcp-Name header`);
    }
    return;
  }
  if ((decodeHeaderValue(name) ?? null) !== target) {
    throw new GatehouseError('GH_HEADER_MISMATCH', `Bad Request: Mcp-Name "${name}" does not match the body's ${target === undefined ? 'missing name' : `name "${target}"`}`);
  }
}

/** Task requests name their task in Mcp-Name (SEP-2663). */
const TASK_NAME_METHODS: ReadonlySet<string> = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw new GatehouseError('GH_BAD_HEADER', `Bad Request: ${name} must be sent once`);
  return value;
}

/** A header value as sent: plain ASCII, or `=?base64?<Base64 of UTF-8>?=` otherwise; undefined when malformed (never a match). */
export function decodeHeaderValue(value: string): string | undefined {
  if (!value.startsWith('=?base64?') || !value.endsWith('?=')) return value;
  const b64 = value.slice(9, -2);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
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
