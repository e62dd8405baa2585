// List items as agents see them through a federated API or a virtual server, the composite
// cursor of a merged list (which server's list, which of its pages), and what is known of the
// members' cached lists (their names, whether a snapshot is still current).
import { isObject, type JsonObject } from '../../mcp/jsonrpc.ts';
import type { CachedList, ListMethod } from './member.ts';
import type { VirtualSelection, VirtualTool } from './plan.ts';

/** The cursor of a merged list: the member's index and the page of its list, opaque to clients. */
export function encodeCursor(member: number, page: number): string {
  return Buffer.from(`gh:${member}:${page}`).toString('base64url');
}

export function decodeCursor(cursor: string, members: number): readonly [number, number] | undefined {
  const match = /^gh:(\d{1,4}):(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return undefined;
  const member = Number(match[1]);
  const page = Number(match[2]);
  return member < members ? [member, page] : undefined;
}

/** The item under its agent-visible name. */
export function rewriteItem(item: JsonObject, name: string): JsonObject {
  return item.name === name ? item : { ...item, name };
}

/** What a virtual server shows of one server item: nothing, or the selected item(s) rewritten. */
export function selectItems(method: ListMethod, server: string, item: JsonObject, selection: VirtualSelection): JsonObject[] {
  switch (method) {
    case 'tools/list': {
      const out: JsonObject[] = [];
      for (const tool of selection.tools.values()) if (tool.server === server && tool.original === item.name) out.push(virtualTool(item, tool));
      return out;
    }
    case 'prompts/list': {
      const out: JsonObject[] = [];
      for (const prompt of selection.prompts.values()) {
        if (prompt.server !== server || prompt.original !== item.name) continue;
        const shown: JsonObject = { ...item, name: prompt.name };
        if (prompt.description !== undefined) shown.description = prompt.description;
        out.push(shown);
      }
      return out;
    }
    case 'resources/list': {
      const uri = item.uri;
      return typeof uri === 'string' && selection.resources.some((r) => r.server === server && r.match.test(uri)) ? [item] : [];
    }
    case 'resources/templates/list': {
      const template = item.uriTemplate;
      return typeof template === 'string' && selection.resources.some((r) => r.server === server && r.match.test(template)) ? [item] : [];
    }
  }
}

/**
 * A tool of a virtual server: renamed, re-described, annotations overridden; fixed arguments
 * leave the input schema (and its `required`), defaults are shown as `default`.
 */
function virtualTool(item: JsonObject, tool: VirtualTool): JsonObject {
  const shown: JsonObject = { ...item, name: tool.name };
  if (tool.description !== undefined) shown.description = tool.description;
  if (tool.annotations !== undefined) shown.annotations = { ...(isObject(item.annotations) ? item.annotations : {}), ...tool.annotations };
  const fixed = Object.keys(tool.fixed);
  const defaults = Object.entries(tool.defaults);
  if ((fixed.length > 0 || defaults.length > 0) && isObject(item.inputSchema)) {
    const schema: JsonObject = { ...item.inputSchema };
    const properties: JsonObject = isObject(schema.properties) ? { ...schema.properties } : {};
    for (const key of fixed) delete properties[key];
    for (const [key, value] of defaults) if (isObject(properties[key])) properties[key] = { ...(properties[key] as JsonObject), default: value };
    schema.properties = properties;
    if (Array.isArray(schema.required)) {
      const required = schema.required.filter((key) => typeof key === 'string' && !fixed.includes(key) && !(key in tool.defaults));
      if (required.length > 0) schema.required = required;
      else delete schema.required;
    }
    shown.inputSchema = schema;
  }
  return shown;
}

/** The item names of a cached list (made once per list: a list is replaced, never changed). */
const listNames = new WeakMap<CachedList, ReadonlySet<string>>();

export function namesOf(list: CachedList): ReadonlySet<string> {
  let names = listNames.get(list);
  if (!names) {
    const set = new Set<string>();
    for (const page of list.pages) for (const item of page) if (typeof item.name === 'string') set.add(item.name);
    listNames.set(list, (names = set));
  }
  return names;
}

/** Whether two snapshots hold the very same member lists (by identity: a list is replaced, never changed). */
export function sameLists(a: ReadonlyArray<CachedList | undefined> | undefined, b: ReadonlyArray<CachedList | undefined>): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
