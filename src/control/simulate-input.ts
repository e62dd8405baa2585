// The body of POST /api/v1/apis/{name}/simulate, checked field by field so that each refusal
// names the field and what is expected (400), and resolved against the store: an agent or user
// named by id must exist (404 otherwise, also for another tenant's agent, which a tenant's
// identity may not see); one described inline ({"id": …}) is taken as given. The schema the
// OpenAPI document publishes is SimulateInput in openapi.ts.
import type { ConfigData } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { Principal } from '../auth/principal.ts';
import { badRequest, ManagementError } from './errors.ts';
import { sees } from './tenant-scope.ts';
import type { Call } from './http.ts';

export interface SimulateInput {
  readonly source: 'draft' | 'deployed';
  readonly agent: { readonly id: string; readonly name?: string; readonly labels?: Record<string, string>; readonly described: boolean };
  readonly user: { readonly id: string; readonly name?: string; readonly described: boolean } | undefined;
  /** Token claims as given (merged over the ones the user implies, in principalOf). */
  readonly claims: Readonly<Record<string, unknown>> | undefined;
  /** A tool whose tools/call is decided with `arguments`. */
  readonly call: { readonly tool: string; readonly arguments: Readonly<Record<string, unknown>> } | undefined;
}

const refuse = (field: string, message: string) => badRequest(`${field}: ${message}`, [{ field, message }]);
const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const describe = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'string' ? 'a string' : typeof value);
/** The longest identifier taken (an agent or user id, a tool name). */
const MAX_ID = 512;

function identifier(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw refuse(field, `expected a non-empty string, got ${describe(value)}`);
  if (value.length > MAX_ID) throw refuse(field, `expected at most ${MAX_ID} characters`);
  return value.trim();
}

function optionalName(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw refuse(field, `expected a string, got ${describe(value)}`);
  return value;
}

function agentOf(value: unknown): SimulateInput['agent'] {
  if (typeof value === 'string') return { id: identifier('agent', value), described: false };
  if (!isPlainObject(value)) throw refuse('agent', 'expected the id of an agent in the store (a string), or an agent described as {"id": …, "name": …, "labels": {…}}');
  const id = identifier('agent.id', value.id);
  const name = optionalName('agent.name', value.name);
  let labels: Record<string, string> | undefined;
  if (value.labels !== undefined) {
    if (!isPlainObject(value.labels)) throw refuse('agent.labels', `expected an object of string labels, got ${describe(value.labels)}`);
    for (const [key, label] of Object.entries(value.labels)) if (typeof label !== 'string') throw refuse(`agent.labels.${key}`, `expected a string, got ${describe(label)}`);
    labels = value.labels as Record<string, string>;
  }
  return { id, described: true, ...(name !== undefined && { name }), ...(labels !== undefined && { labels }) };
}

function userOf(value: unknown): SimulateInput['user'] {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return { id: identifier('user', value), described: false };
  if (!isPlainObject(value)) throw refuse('user', 'expected a user of the embedded authorization server (its id or username, a string), or a user described as {"id": …, "name": …}');
  const name = optionalName('user.name', value.name);
  return { id: identifier('user.id', value.id), described: true, ...(name !== undefined && { name }) };
}

function callOf(tool: unknown, args: unknown): SimulateInput['call'] {
  if (tool === undefined || tool === null || tool === '') {
    if (args !== undefined) throw refuse('arguments', 'arguments are those of one tool call: name the tool in "tool"');
    return undefined;
  }
  const name = identifier('tool', tool);
  if (args === undefined || args === null) return { tool: name, arguments: {} };
  if (typeof args === 'string') {
    // A JSON text where an object belongs: say whether it was even JSON.
    let parsed: unknown;
    try {
      parsed = JSON.parse(args);
    } catch (error) {
      throw refuse('arguments', `expected a JSON object of the tool's arguments; got a string that is not JSON either (${(error as Error).message})`);
    }
    throw refuse('arguments', `expected a JSON object of the tool's arguments, not a string holding ${describe(parsed)} JSON: send the object itself`);
  }
  if (!isPlainObject(args)) throw refuse('arguments', `expected a JSON object of the tool's arguments, got ${describe(args)}`);
  return { tool: name, arguments: args };
}

export function parseSimulateInput(body: Record<string, unknown>): SimulateInput {
  const known = new Set(['agent', 'user', 'claims', 'tool', 'arguments', 'source']);
  const extra = Object.keys(body).find((k) => !known.has(k));
  if (extra !== undefined) throw refuse(extra, `unknown field; expected ${[...known].join(', ')}`);
  if (body.agent === undefined) throw refuse('agent', 'required field is missing (the id of an agent, or {"id": …})');
  const source = body.source ?? 'draft';
  if (source !== 'draft' && source !== 'deployed') throw refuse('source', 'expected "draft" or "deployed"');
  if (body.claims !== undefined && !isPlainObject(body.claims)) throw refuse('claims', `expected a JSON object of token claims (e.g. {"groups": ["ops"]}), got ${describe(body.claims)}`);
  return { source, agent: agentOf(body.agent), user: userOf(body.user), claims: body.claims as Record<string, unknown> | undefined, call: callOf(body.tool, body.arguments) };
}

/**
 * The principal the gateway would build: a stored agent's name, labels and tenant; the user, from
 * the embedded authorization server or as described; the claims its token would carry (sub and
 * preferred_username, as the embedded server issues them) with the given ones over them.
 */
export async function principalOf(input: SimulateInput, config: ConfigData, store: Store, call: Pick<Call, 'tenant'>): Promise<Principal> {
  const principal: Principal = { kind: 'agent', id: input.agent.id, key: `agent:${input.agent.id}`, plan: 'simulation', labels: input.agent.labels ?? {} };
  if (input.agent.described) {
    if (input.agent.name !== undefined) principal.name = input.agent.name;
  } else {
    const found = (await store.getAgent(input.agent.id)) ?? config.agents.find((a) => a.id === input.agent.id);
    // Another tenant's agent is, for a tenant's identity, one that does not exist.
    if (found === undefined || !sees(call, found.tenant)) throw new ManagementError(404, `agent "${input.agent.id}" not found (neither in the store nor among the document's agents); to simulate an agent that is not, describe it: {"agent": {"id": …, "labels": {…}}}`);
    principal.labels = found.labels ?? {};
    if (found.name !== undefined) principal.name = found.name;
    if (found.tenant !== undefined) principal.tenant = found.tenant;
  }
  let claims: Record<string, unknown> | undefined;
  if (input.user) {
    let user: { id: string; name?: string } = input.user.name === undefined ? { id: input.user.id } : { id: input.user.id, name: input.user.name };
    if (!input.user.described) {
      // Users of the embedded authorization server belong to the platform (as /api/v1/users does).
      if (call.tenant !== undefined) throw new ManagementError(404, `user "${input.user.id}" not found (users of the authorization server belong to the platform; describe the user instead: {"user": {"id": …, "name": …}})`);
      const found = (await store.getUser(input.user.id)) ?? (await store.getUserByName(input.user.id));
      if (found === undefined) throw new ManagementError(404, `user "${input.user.id}" not found (no user of the authorization server has this id or username); to simulate a user who is not, describe them: {"user": {"id": …, "name": …}}`);
      user = { id: found.id, name: found.username };
    }
    principal.user = user;
    claims = { sub: user.id, ...(user.name !== undefined && { preferred_username: user.name }) };
  }
  if (input.claims) claims = { ...claims, ...input.claims };
  if (claims) principal.claims = Object.freeze(claims);
  return principal;
}
