// A 2025 client's request to a 2026-07-28 server, from first leg to final answer: the `_meta`
// envelope of what the client declared, and the multi round-trip — an `input_required` answer's
// questions are asked of the client (how is the caller's: on its POST's stream for the single-
// server bridge, legacy-client.ts; as server requests on a federated session's channel,
// federation/modern-member.ts), and the request is sent again with the `inputResponses` and the
// server's `requestState` until it completes. Shared by both, so that the eras are bridged one way.
import { GatehouseError } from '../errors.ts';
import { isObject, type JsonObject, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import { STATELESS_VERSION } from '../mcp/versions.ts';
import { META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL, META_PROTOCOL_VERSION } from './envelope.ts';
import { sendModern, type ModernRequest, type ModernTarget } from './modern-request.ts';

/** Rounds of questions one request may take before Gatehouse gives up (a server asking forever). */
export const MAX_ROUNDS = 16;

/** What a 2025 client declared at initialize: its capabilities and client info. */
export interface Declared {
  readonly cap: Record<string, unknown>;
  readonly info: Record<string, unknown>;
}

/** The `_meta` envelope 2026-07-28 requires on every request, from what the client declared at initialize. */
export function modernEnvelope(declared: Declared, level: string | undefined): JsonObject {
  const meta: JsonObject = { [META_PROTOCOL_VERSION]: STATELESS_VERSION, [META_CLIENT_CAPABILITIES]: declared.cap, [META_CLIENT_INFO]: declared.info };
  if (level !== undefined) meta[META_LOG_LEVEL] = level;
  return meta;
}

/** The client's params with the envelope added to their `_meta` (its own keys, a progress token say, kept). */
export function modernParams(params: JsonObject | undefined, declared: Declared, level: string | undefined): JsonObject {
  const own = params && isObject(params._meta) ? params._meta : {};
  return { ...params, _meta: { ...own, ...modernEnvelope(declared, level) } };
}

/** A 2026-07-28 result in 2025 shape: without `resultType` and the cache hints (no 2025 vocabulary). */
export function legacyResult(result: JsonObject): JsonObject {
  const { resultType: _type, ttlMs: _ttl, cacheScope: _scope, ...rest } = result;
  return rest;
}

/**
 * A 2026-07-28 server's capabilities as offered to a 2025 client: `listChanged` and
 * `resources.subscribe` go unless the caller relays them (both do, with `subscriptions/listen`:
 * a federated member for its session, the single-server bridge behind the client's GET stream).
 */
export function legacyCapabilities(capabilities: JsonObject, relayed: { readonly listChanged: boolean; readonly subscribe: boolean }): JsonObject {
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(capabilities)) {
    if (!isObject(value)) {
      out[name] = value;
      continue;
    }
    const { listChanged, subscribe, ...rest } = value;
    const kept: JsonObject = { ...rest };
    if (relayed.listChanged && listChanged !== undefined) kept.listChanged = listChanged;
    if (relayed.subscribe && subscribe !== undefined) kept.subscribe = subscribe;
    out[name] = kept;
  }
  return out;
}

/** One question of an `input_required` answer: its input key, and the 2025 server request it is. */
export interface InputQuestion {
  readonly key: string;
  readonly method: string;
  readonly params: JsonObject | undefined;
}

export type RpcError = { code: number; message: string; data?: unknown };

/** The client's answers by input key; an error (it refused, did not answer in time, a policy dropped a question); undefined when it left. */
export type InputAnswers = { responses: JsonObject } | { error: RpcError } | undefined;

export interface RoundsOptions {
  /** The server's name, in errors. */
  readonly server: string;
  readonly target: ModernTarget;
  /** The first leg: its params carry the envelope already (modernParams). */
  readonly request: ModernRequest;
  readonly signal: AbortSignal;
  /** What the server writes before each answer (progress, log messages). */
  readonly onMessage: (message: JsonRpcMessage) => void;
  /** Asks the client an answer's questions. */
  readonly ask: (questions: readonly InputQuestion[]) => Promise<InputAnswers>;
  /** Each leg's HTTP status (audit). */
  readonly onLeg?: (status: number) => void;
}

/**
 * The request's final answer, its result as the server gave it (`resultType` and all: the caller
 * shapes it), or an error; undefined when it was cancelled (the signal) or the client left while
 * asked. Throws a GatehouseError when the server cannot be reached, does not answer in time, or
 * asks more than MAX_ROUNDS times.
 */
export async function requestWithInput(options: RoundsOptions): Promise<JsonRpcResponse | undefined> {
  const { request, server } = options;
  const base = request.params ?? {};
  let params: JsonObject = base;
  for (let round = 0; ; round++) {
    if (round === MAX_ROUNDS) throw new GatehouseError('GH_UPSTREAM_BAD_RESPONSE', `Upstream "${server}" asked for input ${MAX_ROUNDS} times in one ${request.method}`);
    const outcome = await sendModern(options.target, { ...request, params }, options.signal, options.onMessage);
    if (!outcome) return undefined;
    options.onLeg?.(outcome.status);
    const answer = outcome.response;
    const result = answer.result;
    if (answer.error || !isObject(result)) return { jsonrpc: '2.0', id: request.id, error: answer.error ?? { code: -32603, message: 'The server answered without a result' } };
    if (result.resultType !== 'input_required') return { jsonrpc: '2.0', id: request.id, result };
    const questions = inputQuestions(server, result.inputRequests);
    if (!Array.isArray(questions)) return { jsonrpc: '2.0', id: request.id, error: questions };
    const answers = await options.ask(questions);
    if (answers === undefined) return undefined;
    if ('error' in answers) return { jsonrpc: '2.0', id: request.id, error: answers.error };
    params = { ...base, inputResponses: answers.responses };
    if (typeof result.requestState === 'string') params.requestState = result.requestState;
  }
}

/** An answer's `inputRequests` as questions, or the error when they are malformed. */
function inputQuestions(server: string, inputRequests: unknown): InputQuestion[] | RpcError {
  if (!isObject(inputRequests) || Object.keys(inputRequests).length === 0) return { code: -32603, message: `Upstream "${server}" asked for input without naming any request` };
  const questions: InputQuestion[] = [];
  for (const [key, asked] of Object.entries(inputRequests)) {
    if (!isObject(asked) || typeof asked.method !== 'string') return { code: -32603, message: `Upstream "${server}" sent a malformed input request "${key}"` };
    questions.push({ key, method: asked.method, params: isObject(asked.params) ? asked.params : undefined });
  }
  return questions;
}

/**
 * Waits for the client's answer to one question: `register` is handed what delivers it.
 * Undefined when it does not come within `timeoutMs` or the request is cancelled.
 */
export function answerOf(timeoutMs: number, signal: AbortSignal, register: (deliver: (answer: JsonRpcResponse) => void) => void): Promise<JsonRpcResponse | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve(undefined);
    };
    signal.addEventListener('abort', done, { once: true });
    register((answer) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve(answer);
    });
  });
}

/** The answers to a round's questions as the retry's `inputResponses`, or the first refusal or silence as an error. */
export async function gatherAnswers(waits: ReadonlyArray<readonly [string, Promise<JsonRpcResponse | undefined>]>, timeoutMs: number, signal: AbortSignal): Promise<InputAnswers> {
  const answered = await Promise.all(waits.map(async ([key, wait]) => [key, await wait] as const));
  if (signal.aborted) return undefined;
  const responses: JsonObject = {};
  for (const [key, answer] of answered) {
    if (!answer) return { error: { code: -32001, message: `The client did not answer the server's request "${key}" within ${timeoutMs} ms` } };
    if (answer.error) return { error: answer.error };
    responses[key] = answer.result ?? {};
  }
  return { responses };
}
