// Reading the answers out of a response body as it went to the client (a JSON body or an SSE
// stream, whole or only its tail): the JSON-RPC error code of each request, and, when payloads
// are recorded, each response itself. Runs when the exchange is over, never on the request path.
import { isObject } from '../mcp/jsonrpc.ts';

const ERROR_KEY = /"error"\s*:/;
const ID = /"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)/;
const CODE = /"error"\s*:\s*\{[^]*?"code"\s*:\s*(-?\d+)/;

/** JSON-RPC ids as text: numbers and strings alike (as the audit record stores them). */
export function idText(id: unknown): string | undefined {
  if (typeof id === 'string') return id;
  if (typeof id === 'number') return String(id);
  return undefined;
}

/** The JSON documents of a body: the data of each SSE event, or the body itself. */
function documents(text: string): string[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return [text];
  const out: string[] = [];
  for (const event of text.split(/\r?\n\r?\n/)) {
    let data = '';
    for (const line of event.split(/\r?\n/)) {
      if (line.startsWith('data:')) data += (data === '' ? '' : '\n') + line.slice(line.startsWith('data: ') ? 6 : 5);
    }
    if (data !== '') out.push(data);
  }
  // A tail may start inside an event: its data line has no "data:" left, but may hold the answer.
  if (out.length === 0 && text.length > 0) out.push(text);
  return out;
}

function collect(value: unknown, into: (message: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) for (const item of value) collect(item, into);
  else if (isObject(value)) into(value);
}

/**
 * Error codes by request id. Cheap when there is no error: one regex test. A cut-off document
 * (the tail of a long stream) is read with regexes instead of JSON.parse.
 */
export function errorCodes(text: string): Map<string, number> {
  const codes = new Map<string, number>();
  if (!ERROR_KEY.test(text)) return codes;
  for (const doc of documents(text)) {
    if (!ERROR_KEY.test(doc)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(doc);
    } catch {
      const code = CODE.exec(doc);
      const id = ID.exec(doc);
      if (code) codes.set(id ? unquote(id[1]!) : '', Number(code[1]));
      continue;
    }
    collect(parsed, (message) => {
      const error = message.error;
      const id = idText(message.id);
      if (isObject(error) && typeof error.code === 'number') codes.set(id ?? '', error.code);
    });
  }
  return codes;
}

/** Responses by request id (payload recording). */
export function responses(text: string): Map<string, Record<string, unknown>> {
  const found = new Map<string, Record<string, unknown>>();
  for (const doc of documents(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(doc);
    } catch {
      continue;
    }
    collect(parsed, (message) => {
      const id = idText(message.id);
      if (id !== undefined && ('result' in message || 'error' in message)) found.set(id, message);
    });
  }
  return found;
}

function unquote(token: string): string {
  if (!token.startsWith('"')) return token;
  try {
    return JSON.parse(token) as string;
  } catch {
    return token.slice(1, -1);
  }
}
