// Turns what one HTTP exchange did (an ExchangeRecord) into audit records: one per JSON-RPC
// message (a batch gives several), one for a GET stream or a DELETE, one for a POST refused
// before its body was read (authentication, guards).
import type { AuditEvent, Decision } from './event.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import { isObject, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import type { DecisionTrace } from '../policy/policy.ts';
import type { GatehouseError } from '../errors.ts';
import { featureOf, targetOf } from '../mcp/classify.ts';
import { normalizeApiPath } from '../config/load.ts';
import { errorCodes, idText } from './answers.ts';
import { payloadText, type RawPayloads } from './payloads.ts';
import { carriesToolResult, finalAnswer, mayHoldError, toolErrorIds } from '../observe/answer.ts';
import { claimantOf } from '../auth/refusal.ts';
import { eventId, type SessionTags } from './ids.ts';
import { settingsFor, type ApiAuditSettings, type AuditSettings } from './settings.ts';
import { clientAddressOf } from '../http/forwarded-from.ts';

/** Agent of an exchange refused before anyone was authenticated (not a valid agent id: ids never contain parentheses). */
export const UNAUTHENTICATED = '(unauthenticated)';

const NO_CODES: ReadonlyMap<string, number> = new Map();

/** Refusals of who is calling or from where, as opposed to failures. */
const REFUSALS: Readonly<Record<string, string>> = {
  GH_UNAUTHORIZED: 'auth',
  GH_INSUFFICIENT_SCOPE: 'auth',
  GH_FORBIDDEN_HOST: 'origin',
  GH_FORBIDDEN_ORIGIN: 'origin',
  GH_RATE_LIMITED: 'rate-limit',
  GH_QUOTA_EXCEEDED: 'rate-limit',
};

export function eventsOf(record: ExchangeRecord, status: number, settings: AuditSettings, tags: SessionTags): AuditEvent[] {
  const req = record.req;
  const api = record.api ?? settings.apiByPath.get(normalizeApiPath(pathOf(req.url)));
  const options = settingsFor(settings, api);
  const principal = record.principal;
  // Upstream time first: while the upstream's answer has not ended it runs to now, and the
  // exchange's duration, read after it, is then never the shorter of the two.
  const upstreamMs = record.upstreamMs;
  const durationMs = round(performance.now() - record.start);
  const bytes = record.responseBytes();
  // Text only when it is read: a body that holds no error object has no error codes, and a
  // long list need not be decoded to learn that.
  const text = options.payloads ? bytes.toString('utf8') : '';
  const codes = mayHoldError(bytes) ? errorCodes(options.payloads ? text : bytes.toString('utf8')) : NO_CODES;
  const answered = new Map<string, JsonRpcResponse>();
  for (const response of record.answered ?? []) {
    const id = idText(response.id);
    if (id !== undefined) answered.set(id, response);
  }
  const base: Common = {
    time: record.time,
    api: api ?? '',
    // The API's tenant once tenants are declared (the records belong to it); before, the agent's tenant label.
    tenant: (api !== undefined ? settings.tenants.get(api) : undefined) ?? principal?.tenant,
    // A recognised credential that was refused (revoked, expired, disabled agent) names its agent.
    agent: principal?.id ?? claimantOf(record.error)?.agent ?? UNAUTHENTICATED,
    user: principal?.user?.id ?? (principal?.kind === 'user' ? principal.id : undefined),
    clientAddress: clientAddress(req, settings.trustProxy),
    session: sessionOf(record, tags),
    status,
    upstreamStatus: record.upstreamStatus,
    durationMs,
    upstreamMs: upstreamMs === undefined ? undefined : round(upstreamMs),
  };
  const trace = record.trace ?? [];
  const messages = record.messages;
  if (messages.length === 0) {
    const method = req.method ?? 'POST';
    const { decision, rule, reason } = decide(trace, record.error, status);
    return [
      event(base, {
        id: eventId(record.time),
        rpcId: undefined,
        method,
        feature: method === 'GET' ? 'stream' : method === 'DELETE' ? 'session' : 'other',
        target: undefined,
        server: record.server,
        originalTarget: undefined,
        decision,
        rule,
        reason,
        errorCode: record.error?.rpc ?? codes.get(''),
        toolError: false,
        bytesIn: record.bytesIn,
        bytesOut: record.bytesOut,
        request: undefined,
        response: undefined,
        trace: traceText(trace, record.upstreamIdentity, method),
        raw: options.payloads && text !== '' ? raw(options, undefined, undefined, text, true) : undefined,
      }),
    ];
  }
  const single = messages.length === 1;
  let batchToolErrors: Set<string> | undefined;
  return messages.map((message, index) => {
    const method = 'method' in message ? message.method : '(response)';
    const target = targetOf(message);
    const rpcId = 'id' in message ? idText(message.id) : undefined;
    const isRequest = 'method' in message && rpcId !== undefined;
    const mine = single ? trace : trace.filter((t) => (t.name !== undefined ? t.name === target : t.method === method));
    const policyAnswer = rpcId !== undefined && isRequest ? answered.get(rpcId) : undefined;
    let { decision, rule, reason } = decide(mine, record.error, status);
    // A policy that answered with an error in the server's place refused, even when it left no trace.
    if (policyAnswer && decision === 'allowed' && refusal(policyAnswer)) {
      decision = 'denied';
      rule = undefined;
      reason = policyAnswer.error?.message ?? 'answered by a policy as a missing item';
    }
    let errorCode: number | undefined;
    if (policyAnswer) errorCode = policyAnswer.error?.code;
    else if (record.error) errorCode = record.error.rpc;
    else if (isRequest) errorCode = codes.get(rpcId!) ?? (single ? codes.get('') : undefined);
    // A tool that reported a failure: the same reading of the answer as the metrics' (shared, read once).
    let toolError = false;
    if (decision === 'allowed' && errorCode === undefined && isRequest && carriesToolResult(method)) {
      toolError = single ? finalAnswer(record, status)?.result?.isError === true : (batchToolErrors ??= toolErrorIds(record.responseBytes())).has(rpcId!);
    }
    // A federated API: the member and original name routing chose; else the API's server.
    const routed = record.targets?.[index];
    return event(base, {
      id: eventId(record.time),
      rpcId,
      method,
      feature: 'method' in message ? featureOf(method) : 'other',
      target,
      server: routed ? routed.server : record.server,
      originalTarget: routed ? routed.original || undefined : record.server === undefined ? undefined : target,
      decision,
      rule,
      reason,
      errorCode,
      toolError,
      // The exchange's bytes are counted once, on its first message, so that sums stay right.
      bytesIn: index === 0 ? record.bytesIn : 0,
      bytesOut: index === 0 ? record.bytesOut : 0,
      request: undefined,
      response: undefined,
      // A federated API's message routed to one member: whom that member was sent to as; one for
      // them all (initialize, a merged list): the members that were, named.
      trace: traceText(mine, routed ? record.targetIdentities?.[index] : record.upstreamIdentity, method),
      // Redacted and cut by the writer thread (payloads.ts): here only what it needs, as it is.
      raw: options.payloads ? raw(options, bodyOf(message), isRequest ? policyAnswer : undefined, isRequest ? text : undefined, single) : undefined,
    });
  });
}

type Common = Pick<AuditEvent, 'time' | 'api' | 'tenant' | 'agent' | 'user' | 'clientAddress' | 'session' | 'status' | 'upstreamStatus' | 'durationMs' | 'upstreamMs'>;

/**
 * One object literal with every field, always in the same order. (Spreading the common fields
 * into each record instead sends V8 down a slow path: some 20 µs per record.)
 */
function event(c: Common, o: Omit<AuditEvent, keyof Common>): AuditEvent {
  return {
    id: o.id,
    time: c.time,
    api: c.api,
    tenant: c.tenant,
    agent: c.agent,
    user: c.user,
    clientAddress: c.clientAddress,
    session: c.session,
    rpcId: o.rpcId,
    method: o.method,
    feature: o.feature,
    target: o.target,
    server: o.server,
    originalTarget: o.originalTarget,
    decision: o.decision,
    rule: o.rule,
    reason: o.reason,
    status: c.status,
    upstreamStatus: c.upstreamStatus,
    errorCode: o.errorCode,
    toolError: o.toolError,
    durationMs: c.durationMs,
    upstreamMs: c.upstreamMs,
    bytesIn: o.bytesIn,
    bytesOut: o.bytesOut,
    request: o.request,
    response: o.response,
    trace: o.trace,
    raw: o.raw,
  };
}

function decide(trace: readonly DecisionTrace[], error: GatehouseError | undefined, status: number): { decision: Decision; rule: string | undefined; reason: string | undefined } {
  const refused = trace.find((t) => !t.allowed);
  if (refused) return { decision: 'denied', rule: ruleOf(refused), reason: refused.reason ?? error?.message };
  if (error) {
    const kind = REFUSALS[error.code];
    const keyId = claimantOf(error)?.keyId;
    return { decision: kind ? 'denied' : 'error', rule: kind, reason: `${error.code}: ${error.message}${keyId === undefined ? '' : ` (API key ${keyId})`}` };
  }
  let allowedBy: DecisionTrace | undefined;
  for (const t of trace) if (t.allowed) allowedBy = t;
  return { decision: status >= 400 ? 'error' : 'allowed', rule: allowedBy ? ruleOf(allowedBy) : undefined, reason: status >= 400 ? `HTTP ${status}` : undefined };
}

/**
 * The record's trace as text. A call sent as a service identity rather than as its caller says so
 * in a last step, after the policies' (it decides nothing, so it is not read by decide()).
 */
function traceText(steps: readonly DecisionTrace[], identity: string | undefined, method: string): string | undefined {
  if (identity === undefined) return steps.length > 0 ? JSON.stringify(steps) : undefined;
  const step: DecisionTrace = { policy: 'upstream-identity', method, allowed: true, rule: 'service', reason: `to the server as Gatehouse's ${identity}, not as a user` };
  return JSON.stringify([...steps, step]);
}

function refusal(answer: JsonRpcResponse): boolean {
  return answer.error !== undefined || (isObject(answer.result) && answer.result.isError === true);
}

function ruleOf(t: DecisionTrace): string {
  return t.rule ? `${t.policy}:${t.rule}` : t.policy;
}

/** What a message carries: a request's or notification's params, a response's result or error. */
function bodyOf(message: JsonRpcMessage): unknown {
  return 'method' in message ? message.params : 'result' in message ? message.result : 'error' in message ? message.error : undefined;
}

function raw(options: ApiAuditSettings, request: unknown, answer: JsonRpcResponse | undefined, body: string | undefined, bodyIsOwn: boolean): RawPayloads {
  // Room over the final cap: a long payload is cut here well past the point the writer cuts it.
  const room = options.maxPayloadBytes * 2 + 4096;
  return { redaction: options.redaction, maxBytes: options.maxPayloadBytes, request: payloadText(request, room), answer: payloadText(answer, room), body, bodyIsOwn };
}

function clientAddress(req: ExchangeRecord['req'], trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  const address = clientAddressOf(req);
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

/** The session of a POST once resolved; GET and DELETE name theirs in the header only. */
function sessionOf(record: ExchangeRecord, tags: SessionTags): string | undefined {
  if (record.sessionId !== undefined) return tags.tag(record.sessionId);
  const header = record.req.headers['mcp-session-id'];
  return typeof header === 'string' && header !== '' && record.req.method !== 'POST' ? tags.tag(header) : undefined;
}

function pathOf(url: string | undefined): string {
  const value = url ?? '/';
  const query = value.indexOf('?');
  return query === -1 ? value : value.slice(0, query);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
