// One MCP request through the gateway, top to bottom:
// guards → authenticate → decode → session → policy chain (request side) → upstream connector
// (which streams the answer back through the response side of the chain).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ExchangeRecord } from '../observe/record.ts';
import type { ApiRuntime } from '../config/compile.ts';
import type { SessionSealer } from '../session/seal.ts';
import type { Upstream, SessionRef, Exchange, PostExchange, CredentialContext } from '../upstream/upstream.ts';
import { checkContentType, checkGetAccept, checkHostAndOrigin, checkPostAccept, readBody } from './guards.ts';
import { errorResponse, isObject, isRequest, repeatedRequestId, requestIdIn, requestIdOf, validateMessage, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import { sendJson } from './reply.ts';
import { CallStream } from './call-stream.ts';
import { formElicitationIn } from '../mcp/client-capabilities.ts';
import { META_CLIENT_CAPABILITIES } from '../bridge/envelope.ts';
import { nestsDeeperThan } from '../mcp/json-depth.ts';
import { checkRoutingHeaders } from '../mcp/routing-headers.ts';
import { itemOf } from '../mcp/classify.ts';
import {
  DEFAULT_HEADERLESS_VERSION,
  PROTOCOL_VERSIONS,
  allowsBatches,
  answerStatus,
  isStateless,
  isSupportedVersion,
  type ProtocolVersion,
} from '../mcp/versions.ts';
import { responseTransform, runRequestPolicies, type DecisionTrace, type PolicyContext } from '../policy/policy.ts';
import { ANONYMOUS, type Principal } from '../auth/principal.ts';
import { authenticate, type Authenticated } from '../auth/plan.ts';
import { authContextFor } from '../auth/public-url.ts';
import { keylessPlan } from '../auth/keyless.ts';
import { targetResolver, targetsOfMessages, type Targets } from '../upstream/federation/targets.ts';
import { legacyClientBridge, modernClientBridge, type ServerBridges } from '../bridge/server-bridges.ts';
import type { ModernClientBridge } from '../bridge/modern-client.ts';
import type { LegacyClientBridge } from '../bridge/legacy-client.ts';
import { withResultType } from '../bridge/results.ts';
import { SERVED_VERSIONS, discoverServedVersions } from '../mcp/served-versions.ts';
import type { Cluster } from '../cluster/forward.ts';

const KEYLESS: Authenticated = { principal: ANONYMOUS };

export interface EndpointDeps {
  readonly sealer: SessionSealer;
  readonly upstream: (server: string) => Upstream | undefined;
  /** The era adapters of a server (src/bridge/); absent in setups that do not bridge. */
  readonly bridges?: ((server: string) => ServerBridges | undefined) | undefined;
  readonly maxRequestBytes: number;
  readonly maxJsonDepth: number;
  readonly log: Logger;
  /** Several nodes (src/cluster/): requests for sessions another live node owns go to it. */
  readonly cluster?: Cluster | undefined;
}

/** What the caller needs to know to answer a failure: the JSON-RPC id, once the body is parsed. */
export interface RequestState {
  id: JsonRpcId | null;
  /** Present only when something observes exchanges (audit, metrics). */
  readonly record: ExchangeRecord | undefined;
}

export async function handleMcp(req: IncomingMessage, res: ServerResponse, api: ApiRuntime, deps: EndpointDeps, state: RequestState): Promise<void> {
  checkHostAndOrigin(req, api.origin);
  const { principal, forward } = api.auth.length === 1 && api.auth[0] === keylessPlan ? KEYLESS : await authenticate(api.auth, authContextFor(req, api.name, api.path, api.publicBase));
  const versionHeader = singleHeader(req, 'mcp-protocol-version');
  if (versionHeader !== undefined && !isSupportedVersion(versionHeader)) {
    // Answered with the request's id when the body names one (2026-07-28 clients match it).
    if (req.method === 'POST') state.id = requestIdOf((await readBody(req, deps.maxRequestBytes)).toString('utf8'));
    throw unsupportedVersion(versionHeader, `Bad Request: unsupported MCP-Protocol-Version "${versionHeader}" (supported: ${PROTOCOL_VERSIONS.join(', ')})`);
  }
  const version: ProtocolVersion = (versionHeader as ProtocolVersion | undefined) ?? DEFAULT_HEADERLESS_VERSION;
  const upstream = deps.upstream(api.server);
  if (!upstream) throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Server "${api.server}" is not configured`);
  // Only a passthrough plan sets `forward`: otherwise the client's credential never reaches the upstream.
  const record = state.record;
  if (record) {
    record.api = api.name;
    record.principal = principal;
    // The server that serves the exchange; a federated API's are found per message (post).
    record.server = api.federation ? undefined : api.server;
    // Known from the caller alone, so the same for a session, a stream, a bridged call or a refusal on the way.
    if (forward === undefined) record.upstreamIdentity = api.federation ? membersIdentity(api.federation.members, deps, { principal, req }) : upstream.identityOf?.({ principal, req });
  }
  const base = { req, res, api: api.name, principal, protocolVersion: version, versionHeader, log: deps.log, passthroughToken: forward?.token, rewriteChallenge: forward?.rewriteChallenge, record };

  switch (req.method) {
    case 'POST':
      // `return await`, not `return`: an async function that returns a promise takes two more
      // microtask turns to settle than one that awaits it.
      return await post(base, api, deps, upstream, state);
    case 'GET': {
      checkGetAccept(req);
      if (isStateless(version)) throw new GatehouseError('GH_METHOD_NOT_ALLOWED', 'Method Not Allowed: 2026-07-28 has no standalone stream', { allow: 'POST' });
      let session = upstreamJudges(req, forward) ? undefined : resolveSession(req, api, principal, deps, upstream);
      if (session instanceof OwnedElsewhere && (session = await forwardSession(base, deps, undefined, session)) === undefined) return;
      const exchange = exchangeOf(base, session, responseTransform(api.policies, policyContext(base, api, session, upstream)), NO_MESSAGES, false, false);
      const legacy = bridgedSession(api, deps, session);
      return legacy ? legacy.get(exchange) : upstream.get(exchange);
    }
    case 'DELETE': {
      if (isStateless(version)) throw new GatehouseError('GH_METHOD_NOT_ALLOWED', 'Method Not Allowed: 2026-07-28 has no sessions', { allow: 'POST' });
      let session = upstreamJudges(req, forward) ? undefined : resolveSession(req, api, principal, deps, upstream);
      if (session instanceof OwnedElsewhere && (session = await forwardSession(base, deps, undefined, session)) === undefined) return;
      const exchange = exchangeOf(base, session, undefined, NO_MESSAGES, false, false);
      const legacy = bridgedSession(api, deps, session);
      return legacy ? legacy.delete(exchange) : upstream.delete(exchange);
    }
    default:
      throw new GatehouseError('GH_METHOD_NOT_ALLOWED', `Method Not Allowed: ${req.method}`, { allow: 'GET, POST, DELETE' });
  }
}

interface Base {
  req: IncomingMessage;
  res: ServerResponse;
  api: string;
  principal: Principal;
  protocolVersion: ProtocolVersion;
  versionHeader: string | undefined;
  log: Logger;
  /** auth: passthrough only (see Exchange). */
  passthroughToken: string | undefined;
  rewriteChallenge: ((value: string) => string) | undefined;
  record: ExchangeRecord | undefined;
}

async function post(base: Base, api: ApiRuntime, deps: EndpointDeps, upstream: Upstream, state: RequestState): Promise<void> {
  const { req } = base;
  checkPostAccept(req);
  checkContentType(req);
  const body = await readBody(req, deps.maxRequestBytes);
  if (base.record) base.record.bytesIn = body.length;
  const text = body.toString('utf8');
  // Before anything recursive (serializing, policies) meets the message.
  if (nestsDeeperThan(text, deps.maxJsonDepth)) {
    throw new GatehouseError('GH_JSON_TOO_DEEP', `Invalid Request: the body nests deeper than limits.maxJsonDepth (${deps.maxJsonDepth})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatehouseError('GH_PARSE_ERROR', 'Parse error: the body is not valid JSON');
  }
  const batch = Array.isArray(parsed);
  const items: unknown[] = batch ? (parsed as unknown[]) : [parsed];
  if (batch) {
    if (!allowsBatches(base.protocolVersion)) {
      throw new GatehouseError('GH_BATCH_REJECTED', `Invalid Request: JSON-RPC batches are not allowed in protocol version ${base.protocolVersion}`);
    }
    if (items.length === 0) throw new GatehouseError('GH_INVALID_REQUEST', 'Invalid Request: empty batch');
  }
  // An invalid single request is still answered with its id, so the client can match the refusal.
  if (!batch) state.id = requestIdIn(parsed);
  const messages: JsonRpcMessage[] = [];
  for (const [index, item] of items.entries()) {
    const checked = validateMessage(item);
    if (!checked.ok) throw new GatehouseError('GH_INVALID_REQUEST', `Invalid Request${batch ? ` (batch element ${index})` : ''}: ${checked.reason}`);
    messages.push(checked.message);
  }
  const first = messages[0]!;
  const initialize = !batch && isRequest(first) && first.method === 'initialize';
  if (batch && messages.some((m) => isRequest(m) && m.method === 'initialize')) {
    throw new GatehouseError('GH_INVALID_REQUEST', 'Invalid Request: initialize must not be part of a batch');
  }
  // Answers are paired with requests by id: a repeated id would pair one request's answer with another.
  const repeated = batch ? repeatedRequestId(messages) : undefined;
  if (repeated !== undefined) throw new GatehouseError('GH_INVALID_REQUEST', `Invalid Request: request id ${JSON.stringify(repeated)} is used more than once in this batch; each request needs its own id`);
  if (isStateless(base.protocolVersion)) checkRoutingHeaders(req.headers, first);

  let session: SessionRef | undefined;
  if (!initialize && !isStateless(base.protocolVersion) && !upstreamJudges(req, base.rewriteChallenge)) {
    const found = resolveSession(req, api, base.principal, deps, upstream);
    if (!(found instanceof OwnedElsewhere)) session = found;
    else if ((session = await forwardSession(base, deps, body, found)) === undefined) return;
  }
  // A 2026-07-28 client of a server that speaks 2025 is served by the era adapter (src/bridge/);
  // so is one of a federated API, whose adapter (`@<api>`) bridges to the API's own channel.
  let bridge: ModernClientBridge | undefined;
  if (isStateless(base.protocolVersion)) {
    const bridges = deps.bridges?.(api.server);
    if (bridges) bridge = await modernClientBridge(bridges);
    if (bridge && base.passthroughToken !== undefined) {
      throw unsupportedVersion(base.protocolVersion, `Bad Request: API "${api.name}" passes the client's token through to server "${api.server}", which speaks a 2025 revision; 2026-07-28 clients are bridged only when Gatehouse holds the upstream credential`, SESSION_VERSIONS);
    }
    if (!bridge && upstream.kind === 'channel') {
      throw unsupportedVersion(base.protocolVersion, `Bad Request: server "${api.server}" is reached over a session-bound transport and no era bridge is available`, SESSION_VERSIONS);
    }
    // A retry whose request state names a call waiting on another node goes to that node; when
    // that node is gone, the request runs here afresh (the server asks again), as before.
    const owner = bridge && deps.cluster && deps.cluster.mayForward(req) ? bridge.stateOwner(api.name, base.principal.key, first) : undefined;
    if (owner !== undefined && (await forwardTo(base, deps, body, owner))) return;
  }
  // A 2025 client of a server that speaks only 2026-07-28 is served by the other era adapter: its
  // initialize when the probe says so, and its requests when its session is such a one.
  let legacy = bridgedSession(api, deps, session);
  if (initialize && !api.federation && base.passthroughToken === undefined) {
    const bridges = deps.bridges?.(api.server);
    if (bridges) legacy = await legacyClientBridge(bridges);
  }

  // A federated API: the server and original name behind what each message names, known to
  // the session's tables before any policy decides (a name or URI not listed yet is looked up as
  // routing would), so that policies, the audit and metrics see the server it goes to.
  let targets: Targets | undefined;
  if (api.federation && (api.policies.length > 0 || base.record)) {
    // A bridged client has no session claims: its tables are those of the bridged session the
    // request will be served on. That session is opened before the policies decide unless the
    // config alone places what the request names (a virtual server's names; tool and prompt names
    // under `prefix: always`): a call then denied starts no member session.
    const placed = bridge ? targetResolver(api.federation, upstream, undefined) : undefined;
    const tablesNeeded = placed !== undefined && !api.federation.virtual && !namesAllPlaced(placed, messages);
    const bridged = tablesNeeded ? await bridge!.channelFor(api.name, base.principal.key, first, { principal: base.principal, req, method: first && 'method' in first ? first.method : undefined }) : undefined;
    targets = bridged ? targetResolver(api.federation, upstream, undefined, bridged) : (placed ?? targetResolver(api.federation, upstream, session?.claims));
    await targets.locate(messages);
  }
  // An empty policy chain (the common case of a plain proxy) forwards the messages as parsed.
  const ctx = api.policies.length === 0 ? undefined : policyContext(base, api, session, upstream, targets, batch ? NO_MESSAGES : messages);
  if (base.record) {
    base.record.messages = messages;
    base.record.sessionId = session?.token;
    base.record.trace = ctx ? ctx.trace : NO_TRACE;
    if (targets) {
      const routed = targetsOfMessages(api.federation!, targets.of, messages);
      base.record.targets = routed;
      if (base.record.upstreamIdentity !== undefined) {
        const context = { principal: base.principal, req };
        base.record.targetIdentities = routed.map((t) => (t ? deps.upstream(t.server)?.identityOf?.(context) : undefined));
      }
    }
  }
  const forwarded = ctx ? await applyRequestPolicies(api, ctx, messages, batch, base.res, base.record, base.protocolVersion) : messages;
  if (forwarded === undefined) return; // a policy answered in the server's place
  const policed = ctx ? responseTransform(api.policies, ctx, forwarded) : undefined;
  // Under passthrough the server's own discovery stands: Gatehouse bridges no era for it.
  const transform = base.passthroughToken === undefined ? discoverServedVersions(policed, forwarded) : policed;
  const exchange = exchangeOf(base, session, transform, forwarded, batch, initialize);
  if (bridge) {
    // A federated API's requests for items of a 2026-07-28 member go to it as they are (modern-forward.ts).
    const direct = api.federation ? deps.bridges?.(api.server)?.memberForward : undefined;
    if (direct && (await direct.post(exchange, bridge))) return;
    return await bridge.post(exchange);
  }
  return legacy ? await legacy.post(exchange) : await upstream.post(exchange);
}

/**
 * Whether the config alone places what the messages are about: each names an item it places. A
 * list is about the items of its answer, which the response policies place with the session's
 * tables (resource URIs, names under `prefix: conflicts`), so it needs them.
 */
function namesAllPlaced(targets: Targets, messages: readonly JsonRpcMessage[]): boolean {
  for (const message of messages) {
    const named = itemOf(message);
    if (!named || targets.of(named.kind, named.name) === undefined) return false;
  }
  return true;
}

/** The 2025-client adapter a session opened through it belongs to (its claims say so). */
function bridgedSession(api: ApiRuntime, deps: EndpointDeps, session: SessionRef | undefined): LegacyClientBridge | undefined {
  if (!session?.claims.br) return undefined;
  const legacy = api.federation ? undefined : deps.bridges?.(api.server)?.legacyClient;
  // The server changed under the session (reload): the client initializes again.
  if (!legacy) throw new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: initialize a new session');
  return legacy;
}

const NO_MESSAGES: readonly JsonRpcMessage[] = Object.freeze([]);

/**
 * The one place an exchange is made, so that POST, GET and DELETE exchanges share one object
 * shape: a GET or DELETE of another shape reaching the connector's optimized code made V8 throw
 * that code away ("wrong map") and compile it again at every session's end. Every field is
 * spelled out (not a spread of base): this object is made on every request.
 */
function exchangeOf(
  base: Base,
  session: SessionRef | undefined,
  transform: Exchange['transform'],
  messages: readonly JsonRpcMessage[],
  batch: boolean,
  initialize: boolean,
): PostExchange {
  return {
    req: base.req,
    res: base.res,
    api: base.api,
    principal: base.principal,
    protocolVersion: base.protocolVersion,
    versionHeader: base.versionHeader,
    log: base.log,
    passthroughToken: base.passthroughToken,
    rewriteChallenge: base.rewriteChallenge,
    record: base.record,
    session,
    transform,
    messages,
    batch,
    initialize,
  };
}

const NO_TRACE: readonly DecisionTrace[] = Object.freeze([]);

/**
 * Runs the request side of the policy chain on each message. Returns what to forward, or
 * undefined when a policy answered in the server's place (the answer is sent here); throws a
 * policy's denial.
 */
async function applyRequestPolicies(
  api: ApiRuntime,
  ctx: PolicyContext,
  messages: readonly JsonRpcMessage[],
  batch: boolean,
  res: ServerResponse,
  record: ExchangeRecord | undefined,
  version: ProtocolVersion,
): Promise<JsonRpcMessage[] | undefined> {
  const forwarded: JsonRpcMessage[] = [];
  const answered: JsonRpcResponse[] = [];
  for (const message of messages) {
    const outcome = await runRequestPolicies(api.policies, ctx, message);
    if (!outcome.denied) {
      forwarded.push(outcome.message);
      continue;
    }
    if (outcome.denied.action === 'consume') continue;
    if (outcome.denied.action === 'deny') {
      const error = outcome.denied.error;
      throw error instanceof GatehouseError ? error : new GatehouseError('GH_INTERNAL', error.message);
    }
    // 2026-07-28 clients require resultType on every result, answers in the server's place included.
    answered.push(isStateless(version) ? withResultType(outcome.denied.response) : outcome.denied.response);
  }
  if (answered.length === 0) {
    if (forwarded.length > 0) return forwarded;
    // Every message was for Gatehouse itself (notifications and responses only): accepted.
    res.writeHead(202).end();
    return undefined;
  }
  if (record) record.answered = answered;
  // In a batch, nothing is forwarded: every other request is answered with an error saying why.
  if (!batch) sendJson(res, answerStatus(version, answered[0]!), answered[0]);
  else {
    const others = forwarded.filter(isRequest).map((m) => errorResponse(m.id, -32600, 'Not processed: another message of this batch was refused'));
    sendJson(res, 200, [...answered, ...others]);
  }
  return undefined;
}

/** The versions a session-bound (stdio, HTTP+SSE) server is served with: all but the sessionless one. */
const SESSION_VERSIONS: readonly string[] = PROTOCOL_VERSIONS.filter((v) => !isStateless(v));

/** UnsupportedProtocolVersion as 2026-07-28 specifies it: -32022 with data {supported, requested}. */
function unsupportedVersion(requested: string, message: string, supported: readonly string[] = SERVED_VERSIONS): GatehouseError {
  return new GatehouseError('GH_UNSUPPORTED_PROTOCOL_VERSION', message, undefined, { supported: [...supported], requested });
}

function metaOf(message: JsonRpcMessage | undefined): Record<string, unknown> {
  const params = message && 'method' in message && isObject(message.params) ? message.params : undefined;
  return params && isObject(params._meta) ? params._meta : {};
}

/** A single request's answer stream, which a policy may open early (call-stream.ts). */
function callStreamOf(base: Base, messages: readonly JsonRpcMessage[]): CallStream | undefined {
  const only = messages.length === 1 ? messages[0]! : undefined;
  return only && isRequest(only) && base.req.method === 'POST' ? new CallStream(base.res, only.id) : undefined;
}

function policyContext(base: Base, api: ApiRuntime, session: SessionRef | undefined, upstream: Upstream, targets?: Targets, messages: readonly JsonRpcMessage[] = NO_MESSAGES): PolicyContext {
  return {
    api: api.name,
    // A federated API has no one server: policies ask targetOf for each name.
    server: api.federation ? '' : api.server,
    targetOf: api.federation ? (targets ?? targetResolver(api.federation, upstream, session?.claims)).of : undefined,
    principal: base.principal,
    protocolVersion: base.protocolVersion,
    sessionId: session?.token,
    request: { headers: base.req.headers, remoteAddress: base.req.socket.remoteAddress },
    response: base.res,
    toClient: callStreamOf(base, messages),
    clientElicits: isStateless(base.protocolVersion) ? formElicitationIn(metaOf(messages[0])[META_CLIENT_CAPABILITIES]) : session?.claims.el === 1,
    log: base.log,
    trace: [],
  };
}

/**
 * auth: passthrough (`forward` set): the upstream judges credentials, so a request that comes
 * without a session goes to it without one, and an unauthenticated request meets the upstream's
 * challenge (its 401, rewritten) rather than Gatehouse's 400 — which is what the MCP
 * authorization flow needs. A session that is named is still checked here (bound to the token).
 */
function upstreamJudges(req: IncomingMessage, forward: unknown): boolean {
  return forward !== undefined && !req.headers['mcp-session-id'];
}

/**
 * The request's session; or, in a cluster, the id of the node that owns it when that is another
 * (a session held in one node's memory: a stdio child, an HTTP+SSE connection, a federated
 * session with such a member). The local path adds one comparison (`claims.node`).
 */
/** A session another live node holds; `fallback`: it may be served here when that node is gone. */
class OwnedElsewhere {
  constructor(
    readonly owner: string,
    readonly fallback: SessionRef | undefined,
  ) {}
}

function resolveSession(req: IncomingMessage, api: ApiRuntime, principal: Principal, deps: EndpointDeps, upstream: Upstream): SessionRef | OwnedElsewhere {
  const token = singleHeader(req, 'mcp-session-id');
  if (token === undefined || token === '') throw new GatehouseError('GH_SESSION_REQUIRED', 'Bad Request: Mcp-Session-Id header is required');
  const claims = deps.sealer.unseal(token);
  // Unknown, tampered, another API's, another principal's, or ended: all look the same (404).
  if (!claims || claims.api !== api.name || claims.sub !== principal.key || claims.kind !== upstream.kind) {
    throw new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: initialize a new session');
  }
  const cluster = deps.cluster;
  if (claims.node !== undefined && cluster !== undefined && claims.node !== cluster.nodeId && claims.st !== 1 && cluster.mayForward(req)) {
    // A bridged 2025 session's node holds only its subscriptions and log level: without that
    // node, any node serves it (with neither) rather than ending it.
    return new OwnedElsewhere(claims.node, claims.br !== undefined ? { token, claims } : undefined);
  }
  if (!upstream.isLive(claims)) throw new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: initialize a new session');
  return { token, claims };
}

/**
 * Sends the request to the node that owns its session: undefined once it was answered there.
 * When that node is gone, the session's fallback (served here), or 404.
 */
async function forwardSession(base: Base, deps: EndpointDeps, body: Buffer | undefined, elsewhere: OwnedElsewhere): Promise<SessionRef | undefined> {
  if (await forwardTo(base, deps, body, elsewhere.owner)) return undefined;
  if (elsewhere.fallback) return elsewhere.fallback;
  throw new GatehouseError('GH_SESSION_NOT_FOUND', 'Session not found: the node that held it is gone; initialize a new session');
}

/** Forwards to `owner`; false when it is gone. The exchange is observed there, not here. */
async function forwardTo(base: Base, deps: EndpointDeps, body: Buffer | undefined, owner: string): Promise<boolean> {
  // Set before the answer can end: the listener reads it when the response closes.
  if (base.record) base.record.forwardedTo = owner;
  let done = false;
  try {
    done = await deps.cluster!.forward(base.req, base.res, body, owner, base.record?.traceparent);
  } finally {
    // Answered here after all (the owner is gone, or did not answer): observed here.
    if (!done && base.record) base.record.forwardedTo = undefined;
  }
  return done;
}

function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  if (Array.isArray(value)) throw new GatehouseError('GH_BAD_HEADER', `Bad Request: ${name} must be sent once`);
  return value;
}

/**
 * The members of a federated API that a request for this caller reaches as someone else (token
 * exchange's service identity), named: `memory: service identity (client gh)`; undefined when none.
 */
function membersIdentity(members: readonly string[], deps: EndpointDeps, context: CredentialContext): string | undefined {
  const named = members.flatMap((server) => {
    const identity = deps.upstream(server)?.identityOf?.(context);
    return identity === undefined ? [] : [`${server}: ${identity}`];
  });
  return named.length > 0 ? named.join('; ') : undefined;
}
