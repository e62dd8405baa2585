// A 2026-07-28 client's request for an item of a 2026-07-28 member of a federated API (a tool
// call, a prompt, a resource read, a completion): forwarded to the member nearly as it is, instead
// of being bridged twice (2026-07-28 → 2025 for the federated session, then 2025 → 2026-07-28 for
// the member). Only the name is the server's own (the federation's prefix removed; `Mcp-Name`
// follows the body); the client's `_meta` envelope, `inputResponses` and `requestState` go as
// they came, and the answer comes back as the server wrote it (an `input_required` one with the
// server's own input keys and request state, which its retry brings back here), through the
// response policies. The name is placed by the federated session the bridge would serve the
// request on (the tables the policies already used), a virtual server's fixed and default
// arguments placed as that session places them; anything else — lists, discovery, listen, items
// of 2025 members — is the bridge's (modern-client.ts).
//
// Tasks (the tasks extension) likewise: a call the member answers with a task reaches the client
// under a task id sealed to the agent (bridge/task-ids.ts: the member's name and its id, the API
// and principal as associated data), and the client's tasks/get, tasks/update and tasks/cancel
// of that id go to the member with its own id, their answers naming the client's. No bridged
// session holds such a task: any session of the agent, on any node, reaches the member.
import { checkParamHeaders } from '../../mcp/routing-headers.ts';
import { errorResponse, idKey, isObject, isRequest, type JsonObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../mcp/jsonrpc.ts';
import type { ModernClientBridge } from '../../bridge/modern-client.ts';
import { readEnvelope } from '../../bridge/envelope.ts';
import { declaresTasks, TASK_METHODS } from '../../bridge/modern-tasks.ts';
import { MAX_UPSTREAM_ID, MEMBER_TASK_SESSION, type TaskIdSealer } from '../../bridge/task-ids.ts';
import { sendModern } from '../../bridge/modern-request.ts';
import { BridgeReply } from '../../bridge/reply.ts';
import type { PostExchange } from '../upstream.ts';
import { FederatedChannel } from './federated-channel.ts';
import type { ModernMemberChannel } from './modern-member.ts';

export class ModernMemberForwarder {
  /** Requests in flight, by API, agent and request id (notifications/cancelled). */
  private readonly inFlight = new Map<string, AbortController>();

  constructor(
    /** Seals the ids of the members' tasks (the bridge's sealer: one kind of task id for 2026-07-28 clients). */
    private readonly taskIds: TaskIdSealer,
    private readonly nodeId: string,
  ) {}

  /** Serves the exchange when it is such a request (or the cancellation of one); false to leave it to the bridge. */
  async post(x: PostExchange, bridge: ModernClientBridge): Promise<boolean> {
    const message = x.messages[0];
    if (x.batch || message === undefined) return false;
    if (!isRequest(message)) {
      if (!('method' in message) || message.method !== 'notifications/cancelled' || !isObject(message.params)) return false;
      const id = message.params.requestId;
      const controller = typeof id === 'string' || typeof id === 'number' ? this.inFlight.get(this.key(x, idKey(id))) : undefined;
      if (!controller) return false;
      controller.abort();
      x.res.writeHead(202).end();
      return true;
    }
    // What the bridge refuses (no envelope, a revision in _meta other than the header's) it refuses itself.
    const envelope = readEnvelope(message.params);
    if (envelope.protocolVersion !== x.versionHeader) return false;
    if (TASK_METHODS.has(message.method)) return declaresTasks(envelope) && (await this.task(x, bridge, message));
    if (!FORWARDED.has(message.method)) return false;
    const channel = await bridge.channelFor(x.api, x.principal.key, message, { principal: x.principal, req: x.req, method: message.method });
    if (!(channel instanceof FederatedChannel)) return false;
    const routed = await route(channel, message);
    if (!routed) return false;
    const server = routed.member.server;
    // A task the member made of the call: the client gets it under the id sealed to the agent.
    const created = (answer: JsonRpcResponse): JsonRpcResponse => {
      const result = answer.result;
      if (message.method !== 'tools/call' || !isObject(result) || result.resultType !== 'task') return answer;
      // An id the client could not be given (none, or longer than any Gatehouse seals) names no task it could reach.
      if (typeof result.taskId !== 'string' || result.taskId.length > MAX_UPSTREAM_ID) return errorResponse(answer.id, -32603, `Upstream "${server}" answered with a malformed task`);
      return { ...answer, result: { ...result, taskId: this.clientTaskId(x, server, result.taskId) } };
    };
    await this.forward(x, routed.member, message, routed.params, created);
    return true;
  }

  /**
   * tasks/get, tasks/update or tasks/cancel of a task a 2026-07-28 member holds: sent to it with
   * its own id. Any other id (a 2025 member's task, an id that opens as no task) is the bridge's,
   * which answers it (bridge/modern-tasks.ts).
   */
  private async task(x: PostExchange, bridge: ModernClientBridge, message: JsonRpcRequest): Promise<boolean> {
    const taskId = message.params?.taskId;
    const claims = typeof taskId === 'string' ? this.taskIds.unseal(x.api, x.principal.key, taskId) : undefined;
    if (!claims || !claims.s.startsWith(MEMBER_TASK_SESSION)) return false;
    const channel = await bridge.channelFor(x.api, x.principal.key, message, { principal: x.principal, req: x.req, method: message.method });
    // A member gone from the API (reload) or not speaking 2026-07-28 now: the bridge answers as for
    // no task. One that is down: GH_UPSTREAM_UNAVAILABLE (thrown), as any request to it.
    const member = channel instanceof FederatedChannel ? await channel.openedModernMember(claims.s.slice(MEMBER_TASK_SESSION.length)) : undefined;
    if (!member) return false;
    const named = (answer: JsonRpcResponse): JsonRpcResponse => (isObject(answer.result) && answer.result.taskId === claims.t ? { ...answer, result: { ...answer.result, taskId } } : answer);
    await this.forward(x, member, message, { ...message.params, taskId: claims.t }, named);
    return true;
  }

  private clientTaskId(x: PostExchange, server: string, taskId: string): string {
    return this.taskIds.seal(x.api, x.principal.key, { node: this.nodeId, s: `${MEMBER_TASK_SESSION}${server}`, t: taskId });
  }

  /** `shape`: the member's answer as the client knows it (its task ids), before the response policies. */
  private async forward(x: PostExchange, member: ModernMemberChannel, request: JsonRpcRequest, params: JsonObject, shape: (answer: JsonRpcResponse) => JsonRpcResponse): Promise<void> {
    const reply = new BridgeReply(x.res, x.protocolVersion);
    const key = this.key(x, idKey(request.id));
    const controller = new AbortController();
    this.inFlight.set(key, controller);
    const left = () => {
      if (!reply.finished) controller.abort();
    };
    x.res.on('close', left);
    const transformed = (message: JsonRpcMessage) => (x.transform ? x.transform(message) : message);
    const name = request.method === 'tools/call' && typeof params.name === 'string' ? params.name : undefined;
    const declarations = name === undefined ? undefined : member.paramHeadersOf(name);
    // The headers sent on are made from the body: the client's own are checked here, or a
    // disagreement the member would refuse goes through unseen.
    if (declarations) checkParamHeaders(declarations, params.arguments, x.req.headers);
    x.record?.upstreamStarted();
    try {
      const outcome = await sendModern(
        member.target,
        { id: request.id, method: request.method, params, paramHeaders: declarations, traceparent: x.record?.traceparent },
        controller.signal,
        (message) => {
          const out = transformed(message);
          if (out) reply.event(out);
        },
      );
      if (!outcome) return; // cancelled, or the client left
      x.record?.upstreamResponded(outcome.status);
      const answer = shape(outcome.response);
      reply.final((transformed(answer) as JsonRpcResponse | undefined) ?? errorResponse(request.id, -32603, 'The answer was withheld by a policy'));
    } catch (error) {
      // Once the answer is a stream its status is sent: the failure is its last message.
      if (!reply.failedOnStream(request.id, error, x.record)) throw error;
    } finally {
      x.record?.upstreamEnded();
      x.res.off('close', left);
      if (this.inFlight.get(key) === controller) this.inFlight.delete(key);
    }
  }

  private key(x: PostExchange, id: string): string {
    return `${x.api}\n${x.principal.key}\n${id}`;
  }
}

const FORWARDED: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read', 'completion/complete']);

/**
 * The 2026-07-28 member that owns what the request names, and the params as that server names
 * it; undefined when another member (or none) does. Names and URIs are routed exactly as the
 * federated session routes a 2025 client's request (only listed names, exact spellings).
 */
async function route(channel: FederatedChannel, request: JsonRpcRequest): Promise<{ member: ModernMemberChannel; params: JsonObject } | undefined> {
  const params = request.params ?? {};
  const named = (kind: 'tools' | 'prompts', name: unknown) => (typeof name === 'string' ? channel.routeName(kind, name) : undefined);
  switch (request.method) {
    case 'tools/call': {
      const target = await named('tools', params.name);
      const member = target && channel.modernMember(target.server);
      // A virtual server's fixed and default arguments are placed here; a fixed one the client
      // passed is left to the bridge, which refuses it as the federated session does.
      const args = member && channel.callArguments(String(params.name), params.arguments);
      return member && typeof args === 'object' ? { member, params: { ...params, name: target.original, arguments: args } } : undefined;
    }
    case 'prompts/get': {
      const target = await named('prompts', params.name);
      const member = target && channel.modernMember(target.server);
      return member && { member, params: { ...params, name: target.original } };
    }
    case 'resources/read': {
      const server = typeof params.uri === 'string' ? await channel.routeUri(params.uri) : undefined;
      const member = server === undefined ? undefined : channel.modernMember(server);
      return member && { member, params };
    }
    case 'completion/complete': {
      const ref = isObject(params.ref) ? params.ref : {};
      if (ref.type === 'ref/prompt') {
        const target = await named('prompts', ref.name);
        const member = target && channel.modernMember(target.server);
        return member && { member, params: { ...params, ref: { ...ref, name: target.original } } };
      }
      // A template reference: the member whose template it is (as the session routes completions).
      if (typeof ref.uri !== 'string') return undefined;
      if (!channel.resolveUri(ref.uri)) await channel.locate('resources', ref.uri);
      const server = channel.resolveUri(ref.uri)?.server;
      const member = server === undefined ? undefined : channel.modernMember(server);
      return member && { member, params };
    }
    default:
      return undefined;
  }
}
