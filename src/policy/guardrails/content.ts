// Where the text of an answer is: a tool result's `content[].text` (and embedded resources'
// `content[].resource.text`) and every string of its `structuredContent`; a resource's
// `contents[].text`; a prompt's `messages[].content.text`. Binary data (`blob`, images, audio) and
// names, URIs and MIME types are not text a detector reads. The answer is recognised by its shape,
// not by the request, so that a result replayed on a resumed stream is judged the same.
import { isObject, type JsonObject } from '../../mcp/jsonrpc.ts';

export type ResultKind = 'tools/call' | 'resources/read' | 'prompts/get';

/** Nesting kept in structuredContent; deeper values are left as they are (the client's JSON limits apply). */
const MAX_DEPTH = 64;

export function kindOf(result: JsonObject): ResultKind | undefined {
  if (Array.isArray(result.content)) return 'tools/call';
  if (Array.isArray(result.contents)) return 'resources/read';
  if (Array.isArray(result.messages)) return 'prompts/get';
  return undefined;
}

/** Applied to each text; `field` is the member name a structuredContent string is the value of. */
export type TextFn = (text: string, field?: string) => string;

/**
 * The result with `fn` applied to each of its texts; the same object when `fn` changed none
 * (copy on write: an answer with nothing found is passed on as it came).
 */
export function mapTexts(result: JsonObject, kind: ResultKind, fn: TextFn): JsonObject {
  switch (kind) {
    case 'tools/call': {
      const content = mapArray(result.content, (item) => mapBlock(item, fn));
      const structured = result.structuredContent === undefined ? undefined : mapDeep(result.structuredContent, fn, 0, undefined);
      if (content === result.content && structured === result.structuredContent) return result;
      return { ...result, content, ...(structured !== undefined && { structuredContent: structured }) } as JsonObject;
    }
    case 'resources/read': {
      const contents = mapArray(result.contents, (item) => mapField(item, 'text', fn));
      return contents === result.contents ? result : { ...result, contents };
    }
    case 'prompts/get': {
      const messages = mapArray(result.messages, (message) => {
        if (!isObject(message)) return message;
        const content = Array.isArray(message.content) ? mapArray(message.content, (item) => mapBlock(item, fn)) : mapBlock(message.content, fn);
        return content === message.content ? message : { ...message, content };
      });
      return messages === result.messages ? result : { ...result, messages };
    }
  }
}

function mapArray(value: unknown, fn: (item: unknown) => unknown): unknown {
  if (!Array.isArray(value)) return value;
  let out: unknown[] | undefined;
  value.forEach((item, i) => {
    const mapped = fn(item);
    if (mapped !== item) (out ??= [...value])[i] = mapped;
  });
  return out ?? value;
}

/** Server messages other than answers that carry text a person or a model reads. */
export type MessageKind = 'notifications/message' | 'notifications/progress' | 'elicitation/create' | 'sampling/createMessage';

const MESSAGE_KINDS: ReadonlySet<string> = new Set<MessageKind>(['notifications/message', 'notifications/progress', 'elicitation/create', 'sampling/createMessage']);

export function messageKindOf(method: string): MessageKind | undefined {
  return MESSAGE_KINDS.has(method) ? (method as MessageKind) : undefined;
}

/**
 * The params of a server's notification or request with `fn` applied to each text: a log
 * message's data (every string in it), a progress message, an elicitation's message, a sampling
 * request's messages and system prompt. The same object when `fn` changed none.
 */
export function mapMessageTexts(params: JsonObject, kind: MessageKind, fn: TextFn): JsonObject {
  switch (kind) {
    case 'notifications/message': {
      const data = mapDeep(params.data, fn, 0, undefined);
      return data === params.data ? params : { ...params, data };
    }
    case 'notifications/progress':
    case 'elicitation/create':
      return mapField(params, 'message', fn) as JsonObject;
    case 'sampling/createMessage': {
      const messages = mapArray(params.messages, (message) => {
        if (!isObject(message)) return message;
        const content = Array.isArray(message.content) ? mapArray(message.content, (item) => mapBlock(item, fn)) : mapBlock(message.content, fn);
        return content === message.content ? message : { ...message, content };
      });
      const withMessages = messages === params.messages ? params : { ...params, messages };
      return mapField(withMessages, 'systemPrompt', fn) as JsonObject;
    }
  }
}

/** A content block: text, or an embedded resource with text. */
function mapBlock(block: unknown, fn: (text: string) => string): unknown {
  if (!isObject(block)) return block;
  if (typeof block.text === 'string') return mapField(block, 'text', fn);
  if (isObject(block.resource)) {
    const resource = mapField(block.resource, 'text', fn);
    return resource === block.resource ? block : { ...block, resource };
  }
  return block;
}

function mapField(item: unknown, field: string, fn: (text: string) => string): unknown {
  if (!isObject(item) || typeof item[field] !== 'string') return item;
  const text = fn(item[field]);
  return text === item[field] ? item : { ...item, [field]: text };
}

function mapDeep(value: unknown, fn: TextFn, depth: number, field: string | undefined): unknown {
  if (typeof value === 'string') return fn(value, field);
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  // An array's items are values of the member that holds it (`"apiKeys": ["…"]`).
  if (Array.isArray(value)) return mapArray(value, (item) => mapDeep(item, fn, depth + 1, field));
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const mapped = mapDeep(item, fn, depth + 1, key);
    if (mapped !== item) (out ??= { ...(value as Record<string, unknown>) })[key] = mapped;
  }
  return out ?? value;
}
