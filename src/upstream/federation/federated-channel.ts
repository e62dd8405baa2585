// A federated client session as one message channel: what the client sends (after the policy
// chain) is routed to the server that owns it — tools/call and prompts/get by name, reads and
// subscriptions by URI, completions by their reference, tasks by task id, cancellations and
// answers to server requests by id — and what the servers send comes back as one server's
// messages: merged lists, renamed items, server requests under ids of Gatehouse's own.
//
// It sits behind a ChannelSession (channel-session.ts), which terminates the client's
// Streamable HTTP exactly as for a stdio server: streams, progress, resumption, timeouts.
//
// Sessions: one upstream session per client session and server. The merged capabilities and
// instructions need every server's initialize answer: the first session of an API opens all of
// its servers' sessions when the client initializes; later ones are answered from what the
// servers said then (member-inits.ts) and open a server's session when they first need it — a
// call, a list, a read. With `onUpstreamFailure: fail`, every session opens all at initialize.
// A server that cannot be reached is left out (`omit`) and tried again with backoff; one whose
// session ends (a child that exits, a 404 from an HTTP server, a connection lost) is started
// again at once. Either way the client is told its lists changed.
import type { Logger } from '../../log.ts';
import { errorResponse, idKey, isNotification, isObject, isRequest, isResponse, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../mcp/jsonrpc.ts';
import { listChangedNotification, type ListKind } from '../../mcp/list-changed.ts';
import * as missing from '../../mcp/missing.ts';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import type { MessageChannel } from '../channel.ts';
import type { CallerSlot } from '../upstream.ts';
import { GatehouseError } from '../../errors.ts';
import { URL_ELICITATION_REQUIRED, UrlElicitationRequired } from '../../mcp/url-elicitation.ts';
import { Member, LIST_FIELD, type CachedList, type ListMethod, type MemberFactory } from './member.ts';
import type { FederationPlan } from './plan.ts';
import { buildNameTable, collisionMessage, originalKey, staticTarget, type NameTable, type Target } from './naming.ts';
import { mergedInitializeResult, negotiatedVersion } from './initialize.ts';
import { decodeCursor, encodeCursor, namesOf, rewriteItem, sameLists, selectItems } from './lists.ts';
import { templateToRegExp } from './uri-template.ts';
import { TOOL_NAME_MAX } from '../../config/federation-schema.ts';
import type { FederatedState, SessionPersistence, StoredMember } from './session-store.ts';
import { ModernMemberChannel } from './modern-member.ts';
import type { MemberInits } from './member-inits.ts';
import { FederatedTasks, TASK_NOT_FOUND } from './federated-tasks.ts';
import type { FederatedTaskIds } from './task-ids.ts';

export interface FederationTimeouts {
  /** Longest wait for a server's answer to Gatehouse's own requests (initialize, list pages). */
  readonly response: number;
}

const RETRY_FIRST_MS = 500;
/** How long a member that refused the session's user stays left out of lists before one is tried again. */
const REFUSAL_RECHECK_MS = 10_000;
const RETRY_MAX_MS = 8_000;

type NamedKind = 'tools' | 'prompts';

export class FederatedChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage, text?: string) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  /** A request is reported when its member took it up, or at once when Gatehouse answers it itself (see channel.ts). */
  readonly reportsAccepted = true;
  onaccepted: ((id: JsonRpcId) => void) | undefined;
  private readonly members: Member[];
  private closed = false;
  /** The client's initialize has been answered (member restarts are stored from then on). */
  private initialized = false;
  private initParams: JsonObject | undefined;
  private version = '';
  /** The client's logging/setLevel, for servers whose session opens later. */
  private logLevel: JsonObject | undefined;
  /** Client request id → the member it went to and the id it has there (cancellation). */
  private readonly forwarded = new Map<string, { member: Member; memberId: JsonRpcId }>();
  /** Gatehouse's id of a server → client request → the member that asked and its id. */
  private readonly serverRequests = new Map<string, { member: Member; id: JsonRpcId }>();
  private nextServerRequest = 0;
  private readonly tasks: FederatedTasks;
  private readonly uris = new Map<string, Member>();
  private templates: Array<{ match: RegExp; template: string; member: Member }> = [];
  private readonly tables = new Map<NamedKind, NameTable>();
  /** The member lists each table was made from (a table is made again only when one changed). */
  private readonly tableSources = new Map<NamedKind, ReadonlyArray<CachedList | undefined>>();
  /** Merged list pages with their text, by method and cursor, valid while their member lists are the same objects. */
  private readonly pages = new Map<string, { lists: ReadonlyArray<CachedList | undefined>; table: NameTable | undefined; result: JsonObject; text: string }>();

  constructor(
    private readonly plan: FederationPlan,
    private readonly factory: MemberFactory,
    private readonly log: Logger,
    private readonly timeouts: FederationTimeouts,
    /** The servers' last initialize answers, shared by the API's sessions. */
    private readonly inits: MemberInits,
    /** Seals the members' task ids for this client session (`binding` names the API and session). */
    taskIds: { readonly ids: FederatedTaskIds; readonly binding: string },
    /** Where the session is kept for other nodes (every member is a Streamable HTTP server). */
    private readonly persistence?: SessionPersistence,
    /** A session another node (or this one before a restart) started: continued, not initialized. */
    private readonly resume?: FederatedState,
    /** Whom the session's requests come from, for members that want each user's own token. */
    private readonly caller?: CallerSlot,
  ) {
    this.members = plan.members.map((server, index) => new Member(server, index, log.child({ member: server })));
    this.tasks = new FederatedTasks(taskIds.ids, taskIds.binding, this.members, log);
  }

  async start(): Promise<void> {
    // A new session's servers are started when the client's initialize arrives: they get its
    // capabilities. A stored session takes its members' upstream sessions over.
    const resume = this.resume;
    if (!resume) return;
    this.initParams = resume.initParams;
    this.version = resume.version;
    this.initialized = true;
    await Promise.all(
      this.members.map((member) => {
        const stored = resume.members[member.server];
        if (stored) return this.takeOver(member, stored);
        // Not open on the node before (not needed yet, or down): opened when needed, if known.
        member.init = this.inits.get(member.server);
        return member.init ? undefined : this.startMember(member);
      }),
    );
  }

  /** Makes `channel` the member's: its messages, acceptances and end come to this session. */
  private attach(member: Member, channel: MessageChannel): void {
    member.channel = channel;
    channel.onmessage = (message, text) => this.fromMember(member, channel, message, text);
    channel.onaccepted = (id) => this.memberAccepted(member, channel, id);
    channel.onclose = (reason) => this.memberClosed(member, channel, reason);
  }

  /** Continues a member's stored upstream session: no initialize (its answer is stored too). */
  private async takeOver(member: Member, stored: StoredMember): Promise<void> {
    member.state = 'starting';
    let channel: MessageChannel | undefined;
    try {
      channel = await this.factory(member.server, member.log, { sessionId: stored.sessionId, protocolVersion: stored.protocolVersion }, this.memberCaller(member));
      this.attach(member, channel);
      await channel.start();
    } catch (error) {
      member.channel = undefined;
      member.state = 'down';
      member.reason = (error as Error).message;
      void this.startMember(member);
      return;
    }
    if (member.channel !== channel) {
      // The server no longer knows the session (it restarted, or expired it): a new one.
      await this.startMember(member);
      return;
    }
    member.init = stored.init;
    member.state = 'up';
    member.log.info({ protocolVersion: stored.protocolVersion }, 'federated server session taken over');
  }

  /** storedState, made once (touched on every request). */
  private readonly currentState = (): FederatedState => this.storedState();

  /** What another node needs to continue this session: the members' live upstream sessions. */
  private storedState(): FederatedState {
    const members: Record<string, StoredMember> = {};
    for (const m of this.members) {
      const channel = m.channel as { sessionId?: string; protocolVersion?: string } | undefined;
      if (m.state !== 'up' || !m.init || channel?.sessionId === undefined || channel.protocolVersion === undefined) continue;
      members[m.server] = { sessionId: channel.sessionId, protocolVersion: channel.protocolVersion, init: m.init };
    }
    return { v: 1, version: this.version, initParams: this.initParams ?? {}, members };
  }

  private persist(): void {
    if (this.persistence && this.initialized && !this.closed) this.persistence.save(this.storedState());
  }

  send(message: JsonRpcMessage): void {
    if (this.closed) throw new Error('closed');
    if (isRequest(message) && !ROUTED.has(message.method)) this.onaccepted?.(message.id);
    if (isRequest(message)) void this.request(message).catch((error: unknown) => this.answerError(message.id, 'GH_INTERNAL', (error as Error).message));
    else if (isNotification(message)) this.notification(message.method, message.params);
    else this.answer(message);
  }

  /**
   * Ends this node's hold on the session but not the upstream sessions, which stay in the store
   * for another node (idle reaping, shutdown). A session that is not stored is closed.
   */
  async detach(): Promise<void> {
    if (!this.persistence) return this.close();
    if (this.closed) return;
    this.closed = true;
    for (const m of this.members) {
      clearTimeout(m.retryTimer);
      m.takePending('the session was detached');
      const channel = m.channel;
      m.channel = undefined;
      m.state = 'down';
      if (channel?.detach) await channel.detach();
      else if (channel) await channel.close().catch(() => undefined);
    }
    this.onclose?.('was detached');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.persistence?.remove();
    await Promise.all(
      this.members.map(async (m) => {
        clearTimeout(m.retryTimer);
        m.takePending('the session was closed');
        const channel = m.channel;
        m.channel = undefined;
        m.state = 'down';
        if (channel) await channel.close().catch(() => undefined);
      }),
    );
    this.onclose?.('was closed');
  }

  /** The server and original name behind an agent-visible name, as routing would find it now (for policies). */
  resolve(kind: NamedKind, name: string): Target | undefined {
    if (this.plan.virtual || this.plan.namespace.prefix === 'always') return staticTarget(this.plan, kind, name);
    return this.tables.get(kind)?.byName.get(name);
  }

  /**
   * The server a resource URI belongs to, as routing would find it now (policies, audit): a
   * virtual server's globs, else the server that listed it or whose template it fits or is
   * (a completion's template reference). Its original name is the URI: URIs keep their spelling.
   */
  resolveUri(uri: string): Target | undefined {
    const selection = this.plan.virtual;
    if (selection) {
      const entry = selection.resources.find((r) => r.match.test(uri));
      return entry ? { server: entry.server, original: uri } : undefined;
    }
    const member = this.uris.get(uri) ?? this.templates.find((t) => t.template === uri || t.match.test(uri))?.member;
    return member ? { server: member.server, original: uri } : undefined;
  }

  /**
   * Makes `resolve` / `resolveUri` know a name or URI the session has not listed yet, by the
   * same lookups routing makes (lists fetched once, then cached): policies then decide, and the
   * audit records, with the server a request will go to.
   */
  async locate(kind: NamedKind | 'resources', nameOrUri: string): Promise<void> {
    if (kind === 'resources') {
      if (!this.resolveUri(nameOrUri)) await this.ownerOfUri(nameOrUri);
    } else if (!this.resolve(kind, nameOrUri)) await this.route(kind, nameOrUri);
  }

  /** Where tools/call or prompts/get route a name now (unknown and colliding names: undefined). */
  async routeName(kind: NamedKind, name: string): Promise<Target | undefined> {
    const target = await this.route(kind, name);
    return target === 'collision' || isRefused(target) ? undefined : target;
  }

  /** The server resources/read routes a URI to now. */
  async routeUri(uri: string): Promise<string | undefined> {
    return (await this.ownerOfUri(uri))?.server;
  }

  /**
   * The sessionless channel of a member that speaks 2026-07-28, while it is up: a 2026-07-28
   * client's requests for its items are forwarded to it nearly as they are (modern-forward.ts).
   */
  modernMember(server: string): ModernMemberChannel | undefined {
    const member = this.members.find((m) => m.server === server);
    return member?.state === 'up' && member.channel instanceof ModernMemberChannel ? member.channel : undefined;
  }

  /**
   * As modernMember, the member opened first when this session has not opened it yet. Throws
   * GH_UPSTREAM_UNAVAILABLE when the API has that member but it is down; undefined when the API
   * has no such member, or it does not speak 2026-07-28 (now).
   */
  async openedModernMember(server: string): Promise<ModernMemberChannel | undefined> {
    const member = this.members.find((m) => m.server === server);
    if (!member) return undefined;
    await this.whenStarted(member);
    if (member.state !== 'up') throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream "${server}" is unavailable${member.reason ? `: ${member.reason}` : ''}`);
    return this.modernMember(server);
  }

  /** Upstream session ids of the HTTP members (tests, logs). */
  memberSessions(): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (const m of this.members) out[m.server] = (m.channel as { sessionId?: string } | undefined)?.sessionId;
    return out;
  }

  // ─── client → servers ────────────────────────────────────────────────────────────────────

  private async request(message: JsonRpcRequest): Promise<void> {
    const params: JsonObject = isObject(message.params) ? message.params : {};
    this.persistence?.touch(this.currentState);
    switch (message.method) {
      case 'initialize':
        return this.initialize(message, params);
      case 'ping':
        return this.emit({ jsonrpc: '2.0', id: message.id, result: {} });
      case 'logging/setLevel':
        this.logLevel = params;
        await Promise.all(this.upMembers().filter((m) => m.offers('logging')).map((m) => m.request('logging/setLevel', params, this.timeouts.response).catch(() => undefined)));
        return this.emit({ jsonrpc: '2.0', id: message.id, result: {} });
      case 'tools/list':
      case 'prompts/list':
      case 'resources/list':
      case 'resources/templates/list':
        return this.list(message, message.method, params);
      case 'tools/call':
        return this.callTool(message, params);
      case 'prompts/get':
        return this.getPrompt(message, params);
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.byUri(message, params);
      case 'completion/complete':
        return this.complete(message, params);
      case 'tasks/get':
      case 'tasks/result':
      case 'tasks/cancel': {
        const task = this.tasks.route(params.taskId);
        if (!task) return this.emit(errorResponse(message.id, -32602, TASK_NOT_FOUND));
        return this.forward(task.member, message, { ...params, taskId: task.taskId });
      }
      case 'tasks/list':
        return this.emit(await this.tasks.list(message, params, this.timeouts.response));
      default:
        return this.emit(missing.methodNotFound(message.id));
    }
  }

  private notification(method: string, params: JsonObject | undefined): void {
    switch (method) {
      case 'notifications/initialized':
        return; // each server got Gatehouse's own when it was initialized
      case 'notifications/cancelled': {
        const requestId = params?.requestId;
        if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
        const target = this.forwarded.get(idKey(requestId));
        if (!target) return;
        this.forwarded.delete(idKey(requestId));
        target.member.send({ jsonrpc: '2.0', method, params: { ...params, requestId: target.memberId } });
        return;
      }
      default:
        // roots/list_changed and the like concern every server.
        for (const member of this.upMembers()) member.send(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
    }
  }

  /** The client's answer to a server request: back to the server that asked, under its own id. */
  private answer(message: JsonRpcResponse): void {
    if (message.id === null) return;
    const key = idKey(message.id);
    const origin = this.serverRequests.get(key);
    if (!origin) return;
    this.serverRequests.delete(key);
    origin.member.send({ ...message, id: origin.id });
  }

  private async initialize(message: JsonRpcRequest, params: JsonObject): Promise<void> {
    this.initParams = params;
    this.version = negotiatedVersion(params.protocolVersion);
    const known = this.plan.onUpstreamFailure === 'omit' ? this.members.map((m) => this.inits.get(m.server)) : [];
    if (known.length > 0 && known.every((init) => init !== undefined)) {
      // Every server answered an earlier session's initialize: answered from that, each opened when needed.
      this.members.forEach((m, i) => (m.init = known[i]));
      this.initialized = true;
      this.persist();
      return this.emit({ jsonrpc: '2.0', id: message.id, result: mergedInitializeResult(this.plan, this.members, this.version) });
    }
    const started = await Promise.all(this.members.map((m) => this.startMember(m)));
    if (this.plan.onUpstreamFailure === 'fail' && started.includes(false)) {
      const down = this.members.filter((m) => m.state !== 'up').map((m) => `"${m.server}" (${m.reason})`);
      return this.answerError(message.id, 'GH_UPSTREAM_UNAVAILABLE', `API "${this.plan.api}" needs every server (onUpstreamFailure: fail); unavailable: ${down.join(', ')}`);
    }
    this.initialized = true;
    this.persist();
    this.emit({ jsonrpc: '2.0', id: message.id, result: mergedInitializeResult(this.plan, this.members, this.version) });
  }

  private async list(message: JsonRpcRequest, method: ListMethod, params: JsonObject): Promise<void> {
    const failed = this.requireAll();
    if (failed) return this.answerError(message.id, 'GH_UPSTREAM_UNAVAILABLE', failed);
    let cursor: readonly [number, number] = [0, 0];
    if (params.cursor !== undefined) {
      const decoded = typeof params.cursor === 'string' ? decodeCursor(params.cursor, this.members.length) : undefined;
      if (!decoded) return this.emit(errorResponse(message.id, -32602, 'Invalid params: unknown cursor'));
      cursor = decoded;
    }
    const lists = await this.fetchLists(method);
    const kind = namedKindOf(method);
    let table: NameTable | undefined;
    if (kind) {
      table = this.table(kind, lists);
      if (table.collisions.length > 0) return this.answerError(message.id, 'GH_NAME_COLLISION', collisionMessage(this.plan, kind === 'tools' ? 'Tool' : 'Prompt', table.collisions[0]!));
    } else {
      const collision = this.learnUris(method, lists);
      if (collision) return this.answerError(message.id, 'GH_NAME_COLLISION', collision);
    }
    // A page made before from the same member lists (and names) is sent again as it was, text
    // included: no merging, renaming or serializing on a repeated list request.
    const pageKey = `${method} ${cursor[0]} ${cursor[1]}`;
    let page = this.pages.get(pageKey);
    if (!page || page.table !== table || !sameLists(page.lists, lists)) {
      const result = this.mergedPage(method, cursor, lists, table);
      if (this.pages.size >= MAX_CACHED_PAGES) this.pages.clear();
      page = { lists, table, result, text: JSON.stringify(result) };
      this.pages.set(pageKey, page);
    }
    this.emit({ jsonrpc: '2.0', id: message.id, result: page.result }, `{"jsonrpc":"2.0","result":${page.text},"id":${JSON.stringify(message.id)}}`);
  }

  /**
   * One page: from the cursor on, pages of consecutive servers, ending after the first page that
   * is not its server's last (the next cursor then continues that server's list).
   */
  private mergedPage(method: ListMethod, cursor: readonly [number, number], lists: ReadonlyArray<CachedList | undefined>, table: NameTable | undefined): JsonObject {
    const field = LIST_FIELD[method];
    const items: JsonObject[] = [];
    let [m, p] = cursor;
    let next: string | undefined;
    while (m < this.members.length) {
      const pages = lists[m]?.pages ?? [];
      const page = pages[p] ?? [];
      const member = this.members[m]!;
      for (const item of page) items.push(...this.present(method, member, item, table));
      if (p + 1 < pages.length) {
        next = encodeCursor(m, p + 1);
        break;
      }
      m++;
      p = 0;
    }
    const result: JsonObject = { [field]: items };
    if (next !== undefined) result.nextCursor = next;
    return result;
  }

  /** An item of a server's list as the agent sees it, or undefined when it is not shown. */
  private present(method: ListMethod, member: Member, item: JsonObject, table: NameTable | undefined): JsonObject[] {
    const selection = this.plan.virtual;
    if (selection) return selectItems(method, member.server, item, selection);
    if (!table) return [item];
    const name = typeof item.name === 'string' ? item.name : undefined;
    const shown = name === undefined ? undefined : table.byOriginal.get(originalKey(member.server, name));
    return shown === undefined ? [] : [rewriteItem(item, shown)];
  }

  private async callTool(message: JsonRpcRequest, params: JsonObject): Promise<void> {
    const name = typeof params.name === 'string' ? params.name : '';
    const target = await this.route('tools', name, true);
    if (target === 'collision') return this.collisionAnswer(message.id, 'tools', name);
    if (isRefused(target)) return this.answerRefusal(message.id, target.refused);
    if (!target) return this.emit(missing.unknownTool(message.id, name));
    const member = this.members.find((m) => m.server === target.server)!;
    const args = this.callArguments(name, params.arguments);
    if (typeof args === 'string') return this.emit(missing.invalidArguments(message.id, name, args));
    return this.forward(member, message, { ...params, name: target.original, arguments: args });
  }

  /**
   * A call's arguments as its server gets them: a virtual server's defaults under them and its
   * fixed arguments over them; a string (why) when the client passed a fixed one.
   */
  callArguments(name: string, passed: unknown): JsonObject | string {
    const args: JsonObject = isObject(passed) ? passed : {};
    const tool = this.plan.virtual?.tools.get(name);
    if (!tool) return args;
    const fixed = Object.keys(tool.fixed).filter((key) => key in args);
    if (fixed.length > 0) return `argument ${fixed.map((k) => `"${k}"`).join(', ')} is set by the gateway and cannot be passed`;
    return { ...tool.defaults, ...args, ...tool.fixed };
  }

  private async getPrompt(message: JsonRpcRequest, params: JsonObject): Promise<void> {
    const name = typeof params.name === 'string' ? params.name : '';
    const target = await this.route('prompts', name, true);
    if (target === 'collision') return this.collisionAnswer(message.id, 'prompts', name);
    if (isRefused(target)) return this.answerRefusal(message.id, target.refused);
    if (!target) return this.emit(missing.unknownPrompt(message.id, name));
    return this.forward(this.members.find((m) => m.server === target.server)!, message, { ...params, name: target.original });
  }

  private async byUri(message: JsonRpcRequest, params: JsonObject): Promise<void> {
    const uri = typeof params.uri === 'string' ? params.uri : '';
    const member = await this.ownerOfUri(uri);
    if (!member) return this.emit(missing.unknownResource(message.id, uri));
    return this.forward(member, message, params);
  }

  private async complete(message: JsonRpcRequest, params: JsonObject): Promise<void> {
    const ref = isObject(params.ref) ? params.ref : {};
    if (ref.type === 'ref/prompt') {
      const name = typeof ref.name === 'string' ? ref.name : '';
      const target = await this.route('prompts', name);
      if (!target || target === 'collision' || isRefused(target)) return this.emit(missing.unknownPrompt(message.id, name));
      return this.forward(this.members.find((m) => m.server === target.server)!, message, { ...params, ref: { ...ref, name: target.original } });
    }
    const uri = typeof ref.uri === 'string' ? ref.uri : '';
    let member = this.templates.find((t) => t.template === uri)?.member;
    if (!member) {
      await this.fetchLists('resources/templates/list').then((lists) => this.learnUris('resources/templates/list', lists));
      member = this.templates.find((t) => t.template === uri)?.member;
    }
    if (!member) return this.emit(missing.unknownResourceTemplate(message.id, uri));
    return this.forward(member, message, params);
  }

  /** Sends a client request to a member under an id of the member's own. */
  private forward(member: Member, message: JsonRpcRequest, params: JsonObject): void {
    if (member.state === 'idle' && this.initialized) {
      void this.startMember(member).then(() => (member.state === 'idle' ? this.answerError(message.id, 'GH_UPSTREAM_UNAVAILABLE', `Server "${member.server}" of API "${this.plan.api}" could not be started`) : this.forward(member, message, params)));
      return;
    }
    if (member.state === 'down' && member.refusal !== undefined) {
      void this.retryRefused(member).then((refused) => (refused ? this.answerRefusal(message.id, refused) : this.forward(member, message, params)));
      return;
    }
    if (member.state !== 'up') return this.answerError(message.id, 'GH_UPSTREAM_UNAVAILABLE', `Server "${member.server}" of API "${this.plan.api}" is unavailable: ${member.reason}`);
    // The client's id when it is free on this member: the answer then goes back as it came.
    const clientKey = idKey(message.id);
    const memberId = member.pending.has(clientKey) ? member.newId() : message.id;
    const memberKey = memberId === message.id ? clientKey : idKey(memberId);
    const out: JsonRpcRequest = { jsonrpc: '2.0', id: memberId, method: message.method, params };
    if (member.log.isLevelEnabled('debug')) member.log.debug({ id: message.id, method: message.method, server: member.server, originalName: params.name ?? params.uri ?? null }, 'request routed');
    member.pending.set(memberKey, { kind: 'client', clientId: message.id, method: message.method, message: out });
    this.forwarded.set(clientKey, { member, memberId });
    if (!member.send(out)) {
      member.pending.delete(memberKey);
      this.forwarded.delete(clientKey);
      this.answerError(message.id, 'GH_UPSTREAM_EXITED', `Server "${member.server}" is not running`);
    } else if (!member.channel?.reportsAccepted) this.onaccepted?.(message.id);
  }

  // ─── naming and routing ──────────────────────────────────────────────────────────────────

  /**
   * The server of an agent-visible name, from the lists (fetched when not cached): the same
   * table the list answers are made from, so a name answers only as it is listed.
   */
  private async route(kind: NamedKind, name: string, forCall = false): Promise<Target | 'collision' | Refused | undefined> {
    const method: ListMethod = kind === 'tools' ? 'tools/list' : 'prompts/list';
    if (this.plan.virtual || this.plan.namespace.prefix === 'always') {
      // The config names the server (a selection, or the prefix): only that server's list tells
      // whether it offers the item. Under `always` that is what the name table would say: names
      // cannot collide, and one longer than MCP allows once prefixed is never listed.
      const target = staticTarget(this.plan, kind, name);
      if (!target || (!this.plan.virtual && name.length > TOOL_NAME_MAX)) return undefined;
      const member = this.members.find((m) => m.server === target.server);
      if (member && forCall) {
        // A member waiting for this user: the call is what prompts them (or, connected now, starts it).
        const refused = await this.retryRefused(member);
        if (refused) return { refused };
      }
      const list = member && (await this.fetchList(member, method));
      return list && namesOf(list).has(target.original) ? target : undefined;
    }
    let table = this.tables.get(kind);
    if (!table || !table.byName.has(name)) table = this.table(kind, await this.fetchLists(method));
    if (table.collisions.some((c) => c.name === name)) return 'collision';
    return table.byName.get(name);
  }

  private table(kind: NamedKind, lists: ReadonlyArray<CachedList | undefined>): NameTable {
    const known = this.tables.get(kind);
    if (known && sameLists(this.tableSources.get(kind), lists)) return known;
    this.tableSources.set(kind, lists);
    const names: Array<readonly [string, string[]]> = [];
    this.members.forEach((member, i) => {
      const list = lists[i];
      if (!list) return;
      names.push([member.server, list.pages.flatMap((page) => page.flatMap((item) => (typeof item.name === 'string' ? [item.name] : [])))]);
    });
    const table = buildNameTable(this.plan, names);
    if (table.tooLong.length > 0) this.log.warn({ names: table.tooLong }, 'names longer than MCP allows (128) once prefixed are left out');
    this.tables.set(kind, table);
    return table;
  }

  private collisionAnswer(id: JsonRpcId, kind: NamedKind, name: string): void {
    const collision = this.tables.get(kind)?.collisions.find((c) => c.name === name);
    this.answerError(id, 'GH_NAME_COLLISION', collision ? collisionMessage(this.plan, kind === 'tools' ? 'Tool' : 'Prompt', collision) : `Name "${name}" is offered by several servers`);
  }

  /**
   * The server a URI belongs to: a virtual server's globs; else the server that listed it, or
   * whose resource template it fits (lists fetched when nothing is known of it). A URI no server
   * listed and no template fits names nothing: answered as an unknown resource.
   */
  private async ownerOfUri(uri: string): Promise<Member | undefined> {
    const selection = this.plan.virtual;
    if (selection) {
      const entry = selection.resources.find((r) => r.match.test(uri));
      const member = entry && this.members.find((m) => m.server === entry.server);
      if (member) await this.whenStarted(member);
      return member;
    }
    const known = () => this.uris.get(uri) ?? this.templates.find((t) => t.match.test(uri))?.member;
    let member = known();
    if (!member) {
      this.learnUris('resources/list', await this.fetchLists('resources/list'));
      this.learnUris('resources/templates/list', await this.fetchLists('resources/templates/list'));
      member = known();
    }
    return member;
  }

  /** Records which server lists each URI and template; a URI two servers list is a collision. */
  private learnUris(method: ListMethod, lists: ReadonlyArray<{ pages: ReadonlyArray<readonly JsonObject[]> } | undefined>): string | undefined {
    if (method === 'resources/templates/list') {
      this.templates = [];
      this.members.forEach((member, i) => {
        for (const page of lists[i]?.pages ?? []) {
          for (const item of page) if (typeof item.uriTemplate === 'string') this.templates.push({ match: templateToRegExp(item.uriTemplate), template: item.uriTemplate, member });
        }
      });
      return undefined;
    }
    if (method !== 'resources/list') return undefined;
    this.uris.clear();
    let collision: string | undefined;
    this.members.forEach((member, i) => {
      for (const page of lists[i]?.pages ?? []) {
        for (const item of page) {
          if (typeof item.uri !== 'string') continue;
          const other = this.uris.get(item.uri);
          if (other && other !== member) {
            collision ??= `Resource URI "${item.uri}" is listed by servers "${other.server}" and "${member.server}" of API "${this.plan.api}"; a URI must name one server's resource`;
            continue;
          }
          this.uris.set(item.uri, member);
        }
      }
    });
    return collision;
  }

  /** Each member's whole list (cached per upstream session); undefined for a member that is down or failed to list. */
  private fetchLists(method: ListMethod): Promise<Array<CachedList | undefined>> {
    return Promise.all(this.members.map((m) => this.fetchList(m, method)));
  }

  private async fetchList(member: Member, method: ListMethod): Promise<CachedList | undefined> {
    await this.whenStarted(member);
    if (member.state !== 'up' || !member.offers(CAPABILITY_OF[method])) return undefined;
    try {
      return await member.list(method, this.timeouts.response);
    } catch (error) {
      member.log.warn({ method, err: (error as Error).message }, 'list failed: this server\'s items are left out');
      return undefined;
    }
  }

  /**
   * A member not opened yet is opened; one whose session is being started (again: it ended a
   * moment ago) is waited for, so its items are not dropped from a list or a route for the time
   * of one initialize.
   */
  private async whenStarted(member: Member): Promise<void> {
    if (member.state === 'idle' && this.initialized) await this.startMember(member);
    else if (member.state === 'starting' && member.starting) await member.starting;
    else if (member.state === 'down' && member.refusal !== undefined && Date.now() - member.refusedAt >= REFUSAL_RECHECK_MS) {
      // The user may have connected since (through another session's prompt): asked quietly.
      if (await this.startMember(member)) this.announce();
    }
  }

  /** With onUpstreamFailure: fail, a reason when some server is not up. */
  private requireAll(): string | undefined {
    if (this.plan.onUpstreamFailure !== 'fail') return undefined;
    const down = this.members.filter((m) => m.state !== 'up');
    if (down.length === 0) return undefined;
    return `API "${this.plan.api}" needs every server (onUpstreamFailure: fail); unavailable: ${down.map((m) => `"${m.server}" (${m.reason || 'starting'})`).join(', ')}`;
  }

  private upMembers(): Member[] {
    return this.members.filter((m) => m.state === 'up');
  }

  // ─── servers → client ────────────────────────────────────────────────────────────────────

  /** A member took a request up: a client request is reported under the client's id. */
  private memberAccepted(member: Member, channel: MessageChannel, id: JsonRpcId): void {
    if (member.channel !== channel || this.closed) return;
    const waiter = member.pending.get(idKey(id));
    if (waiter?.kind === 'client') this.onaccepted?.(waiter.clientId);
  }

  private fromMember(member: Member, channel: MessageChannel, message: JsonRpcMessage, text: string | undefined): void {
    if (member.channel !== channel || this.closed) return;
    if (isResponse(message)) {
      if (message.id === null) return;
      const key = idKey(message.id);
      const waiter = member.pending.get(key);
      if (!waiter) return;
      member.pending.delete(key);
      if (waiter.kind === 'internal') {
        clearTimeout(waiter.timer);
        waiter.resolve(message);
        return;
      }
      this.forwarded.delete(waiter.clientId === message.id ? key : idKey(waiter.clientId));
      // Task ids (a created task, a task's state, the related-task tag) as the client knows them.
      const answer = this.tasks.toClient(member, message, waiter.method);
      if (answer === message && message.id === waiter.clientId) this.emit(message, text);
      else this.emit({ ...answer, id: waiter.clientId } as JsonRpcResponse);
      return;
    }
    if (isRequest(message)) {
      if (message.method === 'ping') {
        member.send({ jsonrpc: '2.0', id: message.id, result: {} });
        return;
      }
      // Server → client requests (sampling, elicitation, roots) under an id of Gatehouse's own.
      const id = `${member.server}#${++this.nextServerRequest}`;
      this.serverRequests.set(idKey(id), { member, id: message.id });
      this.emit({ ...(this.tasks.toClient(member, message) as JsonRpcRequest), id });
      return;
    }
    const method = message.method;
    const changed = LIST_CHANGED.get(method);
    if (changed) {
      member.invalidate(changed.methods);
      this.emit(listChangedNotification(changed.kind));
      return;
    }
    if (method === 'notifications/cancelled' && isObject(message.params)) {
      // The server gave up a request it sent the client: name it by Gatehouse's id.
      const theirs = message.params.requestId;
      for (const [key, origin] of this.serverRequests) {
        if (origin.member === member && origin.id === theirs) {
          this.serverRequests.delete(key);
          this.emit({ ...message, params: { ...message.params, requestId: key.slice(2) } });
          return;
        }
      }
      return;
    }
    const shown = this.tasks.toClient(member, message);
    this.emit(shown, shown === message ? text : undefined);
  }

  // ─── member lifecycle ────────────────────────────────────────────────────────────────────

  /** Starts (or restarts) a member: its channel, then initialize. True once it is up. */
  private startMember(member: Member, forCall = false): Promise<boolean> {
    member.starting ??= this.openMember(member, forCall).finally(() => (member.starting = undefined));
    return member.starting;
  }

  /**
   * The caller a member's channel sends for: the session's, except while Gatehouse opens the
   * member on its own (no connect link is made then: nobody would see it).
   */
  private memberCaller(member: Member): CallerSlot | undefined {
    const session = this.caller;
    if (!session) return undefined;
    return {
      get current() {
        const caller = session.current;
        return caller && member.quiet ? { ...caller, prompt: false } : caller;
      },
      set current(_ignored) {
        // Set on the session's slot only.
      },
    };
  }

  /**
   * A member that refused the session's user, started again for a call routed to it (the user
   * may have connected since): true once it is up, else its refusal (a connect prompt) is the answer.
   */
  private async retryRefused(member: Member): Promise<Error | undefined> {
    // A start of Gatehouse's own under way (quiet: it would make no link) is waited for first.
    if (member.state === 'starting' && member.starting) await member.starting;
    // Not opened yet in this session (its initialize was answered from other sessions'): opened
    // now for the call, so that a user without a token gets the prompt on this very call.
    const idle = member.state === 'idle' && this.initialized;
    if (!idle && (member.refusal === undefined || member.state !== 'down')) return undefined;
    if (await this.startMember(member, true)) {
      if (!idle) this.announce();
      return undefined;
    }
    // Down for another reason (unreachable): routed as before, as a name no server lists now.
    return member.refusal;
  }

  /** A request its member refused for this user: the prompt (-32042, the connect link) or the refusal, as the client's answer. */
  private answerRefusal(id: JsonRpcId, refusal: Error): void {
    if (refusal instanceof UrlElicitationRequired) this.emit(errorResponse(id, URL_ELICITATION_REQUIRED, refusal.message, refusal.data()));
    else if (refusal instanceof GatehouseError) this.emit(errorResponse(id, refusal.rpc, refusal.message, { code: refusal.code }));
    else this.answerError(id, 'GH_UPSTREAM_UNAVAILABLE', refusal.message);
  }

  private async openMember(member: Member, forCall: boolean): Promise<boolean> {
    if (this.closed || !this.initParams) return false;
    member.state = 'starting';
    member.quiet = !forCall;
    const channel = await this.makeChannel(member);
    if (!channel) return false;
    this.attach(member, channel);
    try {
      await channel.start();
      if (member.channel !== channel) throw new Error('the channel ended as it started');
      const params: JsonObject = { ...this.initParams, protocolVersion: this.version };
      const answer = await member.request('initialize', params, this.timeouts.response);
      if (answer.error || !isObject(answer.result)) throw new Error(answer.error?.message ?? 'initialize answered without a result');
      const result = answer.result;
      member.init = {
        protocolVersion: typeof result.protocolVersion === 'string' ? result.protocolVersion : this.version,
        capabilities: isObject(result.capabilities) ? result.capabilities : {},
        serverInfo: isObject(result.serverInfo) ? result.serverInfo : undefined,
        instructions: typeof result.instructions === 'string' ? result.instructions : undefined,
      };
      if (member.channel !== channel) throw new Error('the channel ended during initialize');
      member.state = 'up';
      member.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      this.inits.set(member.server, member.init);
      if (this.logLevel && member.offers('logging')) void member.request('logging/setLevel', this.logLevel, this.timeouts.response).catch(() => undefined);
      member.retryDelay = 0;
      member.reason = '';
      member.refusal = undefined;
      member.quiet = false;
      member.log.info({ protocolVersion: member.init.protocolVersion }, 'federated server session started');
      this.persist();
      return true;
    } catch (error) {
      member.reason = (error as Error).message;
      member.quiet = false;
      const refusal = channel.refusal;
      if (refusal !== undefined && (member.channel === channel || member.channel === undefined)) {
        // This session's user has no token for the server (or acts for no user): the server is
        // fine, the member waits for the user (see Member.refusal) and is not retried on a timer.
        member.refusal = refusal;
        member.refusedAt = Date.now();
        member.channel = undefined;
        member.state = 'down';
        member.takePending(member.reason);
        void channel.close().catch(() => undefined);
        member.log.info({ reason: member.reason }, 'federated server left out for this session\'s user until they connect it');
        return false;
      }
      this.inits.forget(member.server);
      member.log.warn({ err: member.reason }, 'federated server unavailable: its items are left out until it comes back');
      // The channel failed or ended while starting (memberClosed leaves that to here): try again later.
      if (member.channel === channel || member.channel === undefined) {
        member.channel = undefined;
        member.state = 'down';
        member.takePending(member.reason);
        void channel.close().catch(() => undefined);
        this.scheduleRetry(member);
      }
      return false;
    }
  }

  /**
   * A new channel for a member: a Streamable HTTP server's kind (a 2025 session, or sessionless
   * 2026-07-28) may need asking first (member-era.ts). A factory that fails (the server's era
   * could not be learned) leaves the member down, tried again later.
   */
  private async makeChannel(member: Member): Promise<MessageChannel | undefined> {
    try {
      const channel = await this.factory(member.server, member.log, undefined, this.memberCaller(member));
      if (!this.closed) return channel;
      void channel.close().catch(() => undefined);
    } catch (error) {
      member.reason = (error as Error).message;
      member.log.warn({ err: member.reason }, 'federated server unavailable: its items are left out until it comes back');
      member.state = 'down';
      this.scheduleRetry(member);
    }
    return undefined;
  }

  /** A member's channel ended: its waiting requests are answered, its items go, and it is started again. */
  private memberClosed(member: Member, channel: MessageChannel, reason: string): void {
    if (member.channel !== channel || this.closed) return;
    member.channel = undefined;
    if (member.state === 'starting') {
      // Ended while starting: openMember sees its initialize fail and schedules the next try.
      member.takePending(`server "${member.server}" ${reason}`);
      return;
    }
    const wasUp = member.state === 'up';
    member.state = 'down';
    member.reason = `${reason}`;
    member.invalidate();
    const unsent = (channel as { unsent?: JsonRpcMessage }).unsent;
    const retried: Array<{ clientId: JsonRpcId; message: JsonRpcMessage }> = [];
    for (const waiter of member.takePending(`server "${member.server}" ${reason}`)) {
      this.forwarded.delete(idKey(waiter.clientId));
      // A request the server refused with 404 (its session was gone) was not acted on: sent again on the new session.
      if (unsent !== undefined && waiter.message === unsent) retried.push({ clientId: waiter.clientId, message: waiter.message });
      else this.answerError(waiter.clientId, 'GH_UPSTREAM_EXITED', `Server "${member.server}" of API "${this.plan.api}" ${reason} while the request was waiting`);
    }
    for (const [key, origin] of this.serverRequests) if (origin.member === member) this.serverRequests.delete(key);
    member.log.info({ reason }, 'federated server session ended; starting a new one');
    if (wasUp) this.announce();
    void this.startMember(member).then((up) => {
      for (const { clientId, message } of retried) {
        if (up && isRequest(message)) this.forward(member, { ...message, id: clientId }, isObject(message.params) ? message.params : {});
        else this.answerError(clientId, 'GH_UPSTREAM_EXITED', `Server "${member.server}" of API "${this.plan.api}" ${reason}`);
      }
      if (up) this.announce();
    });
  }

  private scheduleRetry(member: Member): void {
    if (this.closed) return;
    member.retryDelay = Math.min(RETRY_MAX_MS, member.retryDelay === 0 ? RETRY_FIRST_MS : member.retryDelay * 2);
    clearTimeout(member.retryTimer);
    member.retryTimer = setTimeout(() => {
      void this.startMember(member).then((up) => {
        if (up) this.announce();
      });
    }, member.retryDelay);
    member.retryTimer.unref();
  }

  /** A server went or came back: every list may look different. */
  private announce(): void {
    if (this.closed) return;
    this.tables.clear();
    for (const kind of ANNOUNCED) this.emit(listChangedNotification(kind));
  }

  private emit(message: JsonRpcMessage, text?: string): void {
    if (!this.closed) this.onmessage?.(message, text);
  }

  private answerError(id: JsonRpcId, code: ErrorCode, message: string): void {
    this.emit(errorResponse(id, ERRORS[code].rpc, message, { code }));
  }
}

const MAX_CACHED_PAGES = 64;

/** Requests sent on to a member (reported accepted by it); Gatehouse answers the others itself. */
const ROUTED: ReadonlySet<string> = new Set([
  'tools/call',
  'prompts/get',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'tasks/get',
  'tasks/result',
  'tasks/cancel',
]);

const ANNOUNCED: readonly ListKind[] = ['tools', 'prompts', 'resources'];

const CAPABILITY_OF: Readonly<Record<ListMethod, string>> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resources',
};

const LIST_CHANGED: ReadonlyMap<string, { kind: ListKind; methods: readonly ListMethod[] }> = new Map([
  ['notifications/tools/list_changed', { kind: 'tools', methods: ['tools/list'] }],
  ['notifications/prompts/list_changed', { kind: 'prompts', methods: ['prompts/list'] }],
  ['notifications/resources/list_changed', { kind: 'resources', methods: ['resources/list', 'resources/templates/list'] }],
]);

function namedKindOf(method: ListMethod): NamedKind | undefined {
  return method === 'tools/list' ? 'tools' : method === 'prompts/list' ? 'prompts' : undefined;
}

/** A name routed to a member that refused the session's user: its refusal is the answer. */
interface Refused {
  readonly refused: Error;
}

function isRefused(target: unknown): target is Refused {
  return typeof target === 'object' && target !== null && 'refused' in target;
}
