// The initialize answer of a federated API: Gatehouse speaks for its servers. A capability is
// offered when any server offers it (list_changed always: Gatehouse says so when a server goes
// or comes back), server info names Gatehouse, and the servers' instructions are combined.
import { isObject, type JsonObject } from '../../mcp/jsonrpc.ts';
import { PROTOCOL_VERSIONS, isStateless } from '../../mcp/versions.ts';
import { canonicalJson } from '../../mcp/canonical-json.ts';
import type { Member } from './member.ts';
import type { FederationPlan } from './plan.ts';

/** The revisions a federated API answers initialize with (it terminates the client's session). */
const SESSION_VERSIONS: readonly string[] = PROTOCOL_VERSIONS.filter((v) => !isStateless(v));
const NEWEST_SESSION_VERSION = SESSION_VERSIONS[SESSION_VERSIONS.length - 1]!;

/** The client's revision when Gatehouse speaks it, else the newest session revision. */
export function negotiatedVersion(requested: unknown): string {
  return typeof requested === 'string' && SESSION_VERSIONS.includes(requested) ? requested : NEWEST_SESSION_VERSION;
}

export function mergedInitializeResult(plan: FederationPlan, members: readonly Member[], version: string): JsonObject {
  const up = members.filter(known);
  const any = (capability: string) => up.some((m) => isObject(m.init!.capabilities[capability]));
  const capabilities: JsonObject = {};
  const selection = plan.virtual;
  // A member that is down now may come back: its kind of item is offered when the config says it may be.
  const mayOffer = (capability: string, selected: boolean | undefined) => (selection ? selected === true : any(capability) || up.length < members.length);
  if (mayOffer('tools', selection && selection.tools.size > 0)) capabilities.tools = { listChanged: true };
  if (mayOffer('prompts', selection && selection.prompts.size > 0)) capabilities.prompts = { listChanged: true };
  if (mayOffer('resources', selection && selection.resources.length > 0)) {
    const subscribe = up.some((m) => isObject(m.init!.capabilities.resources) && (m.init!.capabilities.resources as JsonObject).subscribe === true);
    capabilities.resources = subscribe ? { listChanged: true, subscribe: true } : { listChanged: true };
  }
  if (any('logging')) capabilities.logging = {};
  if (any('completions')) capabilities.completions = {};
  // A virtual server runs tasks of the servers whose tools it selects.
  const tasks = mergedTasks(selection ? up.filter((m) => [...selection.tools.values()].some((t) => t.server === m.server)) : up);
  if (tasks) capabilities.tasks = tasks;
  const extensions = sharedExtensions(members);
  if (extensions) capabilities.extensions = extensions;
  const instructions = selection
    ? undefined
    : up
        .filter((m) => typeof m.init!.instructions === 'string' && m.init!.instructions.trim() !== '')
        .map((m) => `## ${m.server}\n${m.init!.instructions!.trim()}`)
        .join('\n\n');
  const result: JsonObject = {
    protocolVersion: version,
    capabilities,
    serverInfo: { name: 'gatehouse', title: `Gatehouse: ${plan.api}`, version: GATEHOUSE_VERSION },
  };
  if (instructions) result.instructions = instructions;
  return result;
}

/**
 * The extensions the API offers: those every server offers, with the same settings, while every
 * server is up. An extension is an agreement about how the whole server behaves (fields it reads
 * and writes on items and results, which Gatehouse carries unchanged); one server's alone would
 * promise it for the other servers' items too. A server that is down may not offer it.
 */
export function sharedExtensions(members: readonly Member[]): JsonObject | undefined {
  if (members.length === 0 || !members.every(known)) return undefined;
  const declared = members.map((m) => (isObject(m.init!.capabilities.extensions) ? m.init!.capabilities.extensions : {}));
  const out: JsonObject = {};
  for (const [name, settings] of Object.entries(declared[0]!)) {
    const text = canonicalJson(settings);
    if (declared.every((d) => name in d && canonicalJson(d[name]) === text)) out[name] = settings;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The `tasks` capability: what any server offers of listing, cancelling and task-augmented
 * `tools/call` (tasks/get and tasks/result go to the server that holds the task, which offered
 * tasks). Tasks of other requests are not offered: a federated API starts tasks by tool only.
 */
function mergedTasks(up: readonly Member[]): JsonObject | undefined {
  const offered = up.map((m) => m.init!.capabilities.tasks).filter(isObject);
  if (offered.length === 0) return undefined;
  const tasks: JsonObject = {};
  if (offered.some((t) => isObject(t.list))) tasks.list = {};
  if (offered.some((t) => isObject(t.cancel))) tasks.cancel = {};
  if (offered.some((t) => isObject(t.requests) && isObject(t.requests.tools) && isObject(t.requests.tools.call))) tasks.requests = { tools: { call: {} } };
  return tasks;
}

/** A member that is up, or not opened yet but known from an earlier session (member-inits.ts). */
function known(m: Member): boolean {
  return (m.state === 'up' || m.state === 'idle') && m.init !== undefined;
}

export const GATEHOUSE_VERSION = '0.1.0';
