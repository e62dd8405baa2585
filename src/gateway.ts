// A running Gatehouse: the listener, the compiled config, one connector per server, the session
// sealer. Reload swaps the compiled config atomically and updates connectors in place, so
// sessions survive; close drains requests in flight and stops stdio children.
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Agent } from 'undici';
import type { Logger } from './log.ts';
import { createLogger } from './log.ts';
import { validateConfig } from './config/load.ts';
import type { ConfigData, ConfigInput, ServerData } from './config/schema.ts';
import { compileRuntime, type Runtime } from './config/compile.ts';
import { PinningRegistry } from './policy/pinning/registry.ts';
import { TaintBook } from './policy/taint/book.ts';
import { ApprovalBook } from './policy/approval/book.ts';
import { auditEventOfDefinitionChange } from './audit/pinning-events.ts';
import { SessionSealer } from './session/seal.ts';
import { loadSessionKey } from './session/key.ts';
import { Listener, type ExchangeObserver, type ListenerDeps } from './http/listener.ts';
import { openStore } from './store/open.ts';
import { dataPaths } from './data-paths.ts';
import type { Store } from './store/store.ts';
import { DataDirLock } from './store/data-dir-lock.ts';
import { CountersRegistry } from './policy/rate-limit/registry.ts';
import type { RateLimitStats } from './policy/rate-limit/rate-limit-policy.ts';
import type { Upstream, UpstreamGlobals } from './upstream/upstream.ts';
import type { ListKind } from './mcp/list-changed.ts';
import { StreamableHttpUpstream } from './upstream/streamable-http.ts';
import { ChannelUpstream, type ChannelFactory, type ChannelLimits, type ChannelRevival } from './upstream/channel-upstream.ts';
import { StdioChannel } from './upstream/stdio-channel.ts';
import type { StderrDropped } from './upstream/stderr-log.ts';
import { SseChannel } from './upstream/sse-channel.ts';
import { egressConnector, egressRuleOf, type EgressRule, type EgressTenant } from './upstream/egress.ts';
import { CredentialVault } from './credentials/vault.ts';
import { credentialsKeySource } from './credentials/key.ts';
import { UpstreamCredentialRegistry } from './credentials/registry.ts';
import type { UserConnections } from './credentials/oauth-user/connections.ts';
import { UserGrants } from './authserver/grants.ts';
import { TokenDenylist } from './authserver/revocation.ts';
import { AuthEvents } from './authserver/events.ts';
import { actorJwksRoute } from './credentials/token-exchange/actor-jwks.ts';
import { syncConfigAgents } from './auth/agents-sync.ts';
import { compilePublicBase } from './auth/public-url.ts';
import { authorizationServerEnabled, createAuthorizationServer, type AuthorizationServer } from './authserver/index.ts';
import type { SignInServer } from './admin/sso.ts';
import { isLoopbackHost } from './http/guards.ts';
import { Audit, type AuditCounters } from './audit/audit.ts';
import { auditEventOfAuth } from './audit/auth-events.ts';
import { combineObservers } from './observe/composite.ts';
import { Observability } from './metrics/observability.ts';
import { AdminServer } from './admin/server.ts';
import { tenantOf } from './config/tenant-schema.ts';
import { OpenStreams } from './upstream/open-streams.ts';
import { changedLists } from './config/visibility.ts';
import type { MessageChannel } from './upstream/channel.ts';
import { MemberInits } from './upstream/federation/member-inits.ts';
import { FederatedChannel } from './upstream/federation/federated-channel.ts';
import { HttpMemberChannel, type HttpMemberConfig } from './upstream/federation/http-member.ts';
import { MemberClients } from './upstream/federation/member-clients.ts';
import { FederatedSessionStore, type FederatedState } from './upstream/federation/session-store.ts';
import type { MemberFactory } from './upstream/federation/member.ts';
import { httpMemberChannel } from './upstream/federation/member-era.ts';
import { ModernMemberForwarder } from './upstream/federation/modern-forward.ts';
import { compileFederationPlan, connectorName, isFederated, type FederationPlan } from './upstream/federation/plan.ts';
import { ModernClientBridge } from './bridge/modern-client.ts';
import type { SessionChannelFactory } from './bridge/session-pool.ts';
import { EraProbe } from './bridge/era.ts';
import { LegacyClientBridge } from './bridge/legacy-client.ts';
import type { ModernTarget } from './bridge/modern-request.ts';
import { RequestStateSealer } from './bridge/request-state.ts';
import { TaskIdSealer } from './bridge/task-ids.ts';
import { FederatedTaskIds } from './upstream/federation/task-ids.ts';
import type { ServerBridges } from './bridge/server-bridges.ts';
import { deriveKey, SealBox } from './session/seal-box.ts';
import { SharedApprovals } from './policy/approval/shared.ts';
import { ChildSlots } from './upstream/child-slots.ts';
import type { ControlPlane } from './control/plane.ts';
import { defaultMaxConnections, openFileLimit, type ClientLimits, type ConnectionStats } from './http/client-limits.ts';
import { loadListenersTls } from './http/tls.ts';
import { hostname } from 'node:os';
import { Cluster } from './cluster/forward.ts';
import { NodeRegistry } from './cluster/registry.ts';
import { ForwardSigner } from './cluster/signature.ts';

export interface GatewayOptions {
  /** Config as an object (validated here) or already validated. */
  config: ConfigInput | ConfigData;
  /** File the config came from (for messages and the default data directory). */
  configPath?: string;
  logger?: Logger;
  /** Where the session key file lives; default GATEHOUSE_DATA_DIR, else .gatehouse beside the config. */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** `config` is already validated (a managed snapshot, which may have no API yet): do not validate again. */
  validated?: boolean;
  /** Managed mode: builds the control plane (src/control) once the gateway exists, before the admin listener serves. */
  control?: (gateway: Gateway, context: { dataDir: string; env: NodeJS.ProcessEnv }) => ControlPlane;
}

export class Gateway {
  private runtime: Runtime;
  private readonly upstreams = new Map<string, { upstream: Upstream; definition: string; kind: ServerKind }>();
  /** Era adapters per server (src/bridge/), kept in step with `upstreams`. */
  private readonly bridges = new Map<string, { bridges: ServerBridges; definition: string }>();
  private reaper: NodeJS.Timeout;
  private reapEvery: number;
  private prunedAt = 0;
  private readonly sseAgent = new Agent({ keepAliveTimeout: 30_000 });
  /** HTTP+SSE connections of tenants' servers, one agent per egress rule (egress.ts). */
  private readonly sseAgents = new Map<string, Agent>();
  /** The tenants of the config in force, for the egress rules of their servers. */
  private egressTenants: readonly EgressTenant[] = [];
  private closing: Promise<void> | undefined;
  private readonly counters = new CountersRegistry();
  /** Client sessions and streams a reload can tell that their lists changed. */
  private readonly openStreams = new OpenStreams();
  /** Connection pools to the Streamable HTTP servers of federated APIs. */
  private readonly memberClients = new MemberClients();
  readonly rateLimitStats: RateLimitStats = { rejected: 0, backendErrors: 0 };
  /** Pinned tool definitions (src/policy/pinning/), shared by every API's pinning policy; set in the constructor. */
  readonly pinning: PinningRegistry;
  /** Tainted sessions (src/policy/taint/), shared by every API's taint policy. */
  readonly taint: TaintBook;
  /** Tool calls held for approval (src/policy/approval/); the admin listener decides them. */
  readonly approvals = new ApprovalBook();
  /** The approval queue as every node's admin listener sees it (shared.ts). */
  approvalQueue: SharedApprovals | undefined;
  readonly nodeId = randomBytes(6).toString('base64url');
  private readonly stderrDroppedByServer = new Map<string, StderrDropped>();
  /** Children running per stdio server, whoever started them (kept across reloads). */
  private readonly childSlots = new Map<string, ChildSlots>();
  /** Metrics and tracing (src/metrics); set by start(). */
  observability: Observability | undefined;
  /** The admin listener (src/admin); undefined when disabled or its default port was taken. */
  admin: AdminServer | undefined;
  /** Managed mode's control plane (management API, deployments); undefined in file mode. */
  control: ControlPlane | undefined;
  /** The node registry and forwarding (src/cluster/); undefined when cluster.enabled is off. */
  cluster: Cluster | undefined;
  /** The embedded authorization server of the current runtime (rebuilt with it); undefined when off. */
  private authServer: AuthorizationServer | undefined;

  private constructor(
    config: ConfigData,
    private readonly listener: Listener,
    private readonly sealer: SessionSealer,
    readonly store: Store,
    readonly log: Logger,
    readonly port: number,
    private readonly credentials: UpstreamCredentialRegistry,
    private readonly dataDir: string,
    /** The audit log; undefined when `audit.enabled` is false. */
    readonly audit: Audit | undefined,
    private readonly lock: DataDirLock,
    /** What else is sealed with the session key: bridged calls' request states, stored federated sessions. */
    private readonly sealed: { readonly requestStates: RequestStateSealer; readonly taskIds: TaskIdSealer; readonly federatedTaskIds: FederatedTaskIds; readonly federatedSessions: SealBox },
  ) {
    this.taint = new TaintBook(store, log);
    this.pinning = new PinningRegistry(store, log, {
      changed: (change, listener) => {
        log.warn({ pinning: { server: change.server, tool: change.tool, oldHash: change.oldHash, newHash: change.newHash, mode: change.origin.mode, approved: change.approved }, api: change.origin.api }, 'tool definition changed');
        this.audit?.record(auditEventOfDefinitionChange(change));
        listener?.(change);
      },
      // An approval (from any node, or the CLI) may show a tool again: the sessions of the APIs
      // that pin that server are told to list again, as after a reload.
      approvalsChanged: (servers) => {
        const changed = new Map<string, readonly ListKind[]>();
        for (const api of this.config.apis) {
          if (!api.policies.some((p) => 'pinning' in p)) continue;
          const members = api.server !== undefined ? [api.server] : (api.servers ?? api.tools?.map((t) => t.server) ?? []);
          if (members.some((m) => servers.has(m))) changed.set(api.name, ['tools']);
        }
        if (changed.size > 0) this.announceListChanges(changed);
      },
    });
    this.runtime = this.compile(config);
    this.syncUpstreams(config);
    this.reapEvery = reapInterval(config);
    this.reaper = setInterval(() => this.reap(), this.reapEvery).unref();
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const env = options.env ?? process.env;
    const config = options.validated ? (options.config as ConfigData) : validateConfig(options.config, options.configPath ?? '(inline config)');
    const log = options.logger ?? createLogger(config.log.level);
    const { dataDir, store: storeSpec } = dataPaths(config, options.configPath, env, options.dataDir);
    // One running Gatehouse per data directory, and both listeners bound, before anything is read
    // from or written to the data directory or the store: a start that fails (another Gatehouse
    // on this directory, a port in use) changes nothing — a second `npm start` used to revoke the
    // running demo's agent key before it found its port taken. Requests wait until the end.
    const lock = DataDirLock.acquire(dataDir);
    const cleanup: Array<() => Promise<unknown> | void> = [() => lock.release()];
    const undo = async () => {
      for (const step of cleanup.reverse()) await step();
    };
    try {
      // Certificate files are checked before anything binds: a bad pair is a config error.
      const { mcp: mcpTls, admin: adminTls } = await loadListenersTls(config, options.configPath);
      const { key, source } = await loadSessionKey(dataDir, env);
      const sealer = new SessionSealer(key);
      let gateway: Gateway | undefined;
      const listenerDeps: ListenerDeps & { observer: ExchangeObserver | undefined; cluster: Cluster | undefined } = {
        runtime: () => gateway!.runtime,
        sealer,
        upstream: (name) => gateway!.upstreams.get(name)?.upstream,
        bridges: (name) => gateway!.bridges.get(name)?.bridges,
        log,
        observer: undefined, // set below, before the listener opens
        cluster: undefined, // likewise
      };
      const listener = new Listener(listenerDeps, config.limits.maxHeaderBytes, clientLimits(config, log), mcpTls);
      const port = await listener.listen(config.listen.port, config.listen.host);
      cleanup.push(() => listener.drain(0));
      const adminBinding = await AdminServer.bind(config, log, adminTls);
      cleanup.push(() => AdminServer.release(adminBinding));

      const apiOf = (api: string) => gateway?.config.apis.find((a) => a.name === api);
      const observability = await Observability.start(config, log, (api) => apiOf(api)?.server, (api) => {
        const found = apiOf(api);
        return found && tenantOf(found);
      });
      cleanup.push(() => observability.close());
      const store = await openStore(storeSpec);
      cleanup.push(() => store.close());
      await syncConfigAgents(store, config.agents, log);
      const credentials = new UpstreamCredentialRegistry(new CredentialVault(store, credentialsKeySource(dataDir), env), log, store, () => gateway!.baseUrl());
      const audit = config.audit.enabled ? await Audit.open(config, { configPath: options.configPath, dataDir, log, env }) : undefined;
      if (audit) cleanup.push(() => audit.close());
      listenerDeps.observer = combineObservers(audit, observability.observer);
      // A plan that cannot be built (e.g. oauth2 without an issuer) throws here.
      gateway = new Gateway(config, listener, sealer, store, log, port, credentials, dataDir, audit, lock, {
        requestStates: new RequestStateSealer(key),
        taskIds: new TaskIdSealer(key),
        federatedTaskIds: new FederatedTaskIds(key),
        federatedSessions: new SealBox(deriveKey(key, 'gatehouse federated session'), 'gatehouse-federated-session-v1'),
      });
      await gateway.pinning.start();
      gateway.approvals.useLinkKey(deriveKey(key, 'gatehouse approval links'));
      gateway.approvalQueue = new SharedApprovals(gateway.approvals, store, gateway.nodeId, log.child({ component: 'approval' }));
      gateway.approvalQueue.start();
      const queue = gateway.approvalQueue;
      cleanup.push(async () => queue.stop());
      gateway.observability = observability;
      observability.bind(gateway);
      gateway.control = options.control?.(gateway, { dataDir, env });
      if (config.cluster.enabled ?? storeSpec.type === 'postgres') {
        const self = { id: gateway.nodeId, url: advertiseUrl(config, listener.scheme, port) };
        const registry = new NodeRegistry(store, self, config.cluster, log.child({ node: gateway.nodeId }));
        const signer = new ForwardSigner(deriveKey(key, 'gatehouse cluster forwarding'));
        gateway.cluster = listenerDeps.cluster = new Cluster(gateway.nodeId, registry, signer, { connect: config.cluster.forwardConnectTimeout, head: config.timeouts.response + 10_000 }, log.child({ node: gateway.nodeId }));
        await registry.start();
      }
      log.info({ host: config.listen.host, port, node: gateway.nodeId, tls: mcpTls !== undefined, apis: config.apis.map((a) => a.path), sessionKey: source, maxConnections: listener.server.maxConnections }, 'gatehouse listening');
      // After the line above: scripts read the first "port" of the log as Gatehouse's own.
      const started = gateway;
      cleanup.splice(0, cleanup.length, () => started.close(), () => AdminServer.release(adminBinding));
      gateway.admin = await AdminServer.start(gateway, observability.metrics, dataDir, adminBinding);
      // Where the approval webhook's links point: the admin listener, as people reach it.
      gateway.approvals.linkBase = config.admin.publicUrl ?? gateway.admin?.url;
      listener.open();
      return gateway;
    } catch (error) {
      await undo();
      throw error;
    }
  }

  get config(): ConfigData {
    return this.runtime.config;
  }

  /** The URL clients use for an API. */
  url(apiName?: string): string {
    const api = apiName ? this.config.apis.find((a) => a.name === apiName) : this.config.apis[0];
    if (!api) throw new Error(`no API named ${apiName}`);
    return `${this.baseUrl()}${api.path}`;
  }

  /** The MCP listener's base URL (publicUrl when set), without a trailing slash. */
  baseUrl(): string {
    if (this.config.publicUrl) return this.config.publicUrl.replace(/\/$/, '');
    const host = this.config.listen.host;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `${this.listener.scheme}://${shown}:${this.port}`;
  }

  /** Applies a new, already validated config. Listener address changes need a restart. */
  reload(config: ConfigData): void {
    const before = this.runtime.config.listen;
    if (before.host !== config.listen.host || before.port !== config.listen.port) {
      this.log.warn('listen address changes take effect on restart; keeping the current listener');
    }
    this.listener.reconfigureTls(config.listen.tls);
    const changed = changedLists(this.runtime.config, config);
    this.syncUpstreams(config);
    this.runtime = this.compile(config);
    this.announceListChanges(changed);
    this.audit?.reconfigure(config);
    this.observability?.reload(config);
    this.admin?.reload(config);
    // Keys that left the file are refused at once by the new plans; the store catches up here.
    syncConfigAgents(this.store, config.agents, this.log).catch((err: Error) => this.log.error({ err: err.message }, 'could not sync the agents of the config to the store'));
    const every = reapInterval(config);
    if (every !== this.reapEvery && !this.closing) {
      clearInterval(this.reaper);
      this.reapEvery = every;
      this.reaper = setInterval(() => this.reap(), every).unref();
    }
  }

  /** Reads the listeners' TLS files again (SIGHUP); a changed, valid pair is put in place. */
  reloadTls(): Promise<unknown> {
    return Promise.all([this.listener.tls?.check(), this.admin?.checkTls()]);
  }

  /**
   * After a reload, tells the open sessions of each API whose visible lists may have changed, so
   * that clients list again (and get the new runtime's answer).
   */
  private announceListChanges(changed: ReadonlyMap<string, readonly ListKind[]>): void {
    for (const [api, kinds] of changed) {
      const reached = this.openStreams.listChanged(api, kinds);
      this.log.info({ api, lists: kinds, reached }, 'told open client sessions that their lists may have changed');
    }
  }

  /** Compiles a config; the embedded authorization server (when used) is built with it and its routes added. */
  private compile(config: ConfigData): Runtime {
    const authServer = authorizationServerEnabled(config)
      ? createAuthorizationServer({ store: this.store, config, log: this.log, dataDir: this.dataDir, publicBase: compilePublicBase(config), events: this.audit && ((event) => this.audit!.record(auditEventOfAuth(event))), vault: this.credentials.vault, upstreamAccounts: this.credentials.connections })
      : undefined;
    const deps = { store: this.store, log: this.log, counters: this.counters, rateLimitStats: this.rateLimitStats, pinning: this.pinning, taint: this.taint, approvals: this.approvals, embeddedIssuer: authServer?.embeddedIssuer };
    const runtime = compileRuntime(config, deps);
    for (const [route, handler] of authServer?.routes ?? []) runtime.routes.add(route, handler, runtime.routeOrigin);
    // Per-user upstream OAuth: the connect links and Gatehouse's client metadata document.
    const connections = this.credentials.connections;
    connections.setPublicBase(compilePublicBase(config));
    connections.retain(new Set(Object.entries(config.servers).flatMap(([name, server]) => ('url' in server && server.auth?.type === 'oauth-user' ? [name] : []))));
    for (const [route, handler] of connections.routes()) runtime.routes.add(route, handler, runtime.routeOrigin);
    // Token exchange: the public keys of the actor tokens, for the authorization server to fetch.
    const actorJwks = actorJwksRoute(config);
    if (actorJwks) runtime.routes.add(...actorJwks, runtime.routeOrigin);
    // Users of the embedded authorization server see and revoke their connections and grants
    // there, and a client's sign-out request (/oauth/end-session) ends their session there.
    if (authServer) for (const route of connections.pageRoutes(authServer.endSession)) runtime.routes.add(...route, runtime.routeOrigin);
    this.authServer = authServer;
    return runtime;
  }

  /**
   * The admin listener's "Sign in with Gatehouse" (src/admin/sso.ts): the authorization server's
   * admin client and the server's URL for a browser: publicUrl, else this listener on the host
   * name the browser used for the admin listener (when this listener is on loopback or on every
   * address; otherwise on its own address).
   */
  adminSignIn(): SignInServer | undefined {
    const admin = this.authServer?.admin;
    if (!admin) return undefined;
    return {
      ...admin,
      base: (hostname) => {
        if (this.config.publicUrl !== undefined) return this.config.publicUrl.replace(/\/+$/, '');
        const host = this.config.listen.host;
        const sameHost = isLoopbackHost(host) || host === '0.0.0.0' || host === '::';
        return sameHost && hostname !== '' ? `${this.listener.scheme}://${hostname}:${this.port}` : this.baseUrl();
      },
    };
  }

  /**
   * Users' grants to applications at the embedded authorization server: the running server's
   * (its denylist, so a revocation is refused at once on this node), else one over the store
   * (no API uses the server now, but grants made before may still be alive).
   */
  userGrants(): UserGrants {
    if (this.authServer) return this.authServer.grants;
    const events = new AuthEvents(this.log.child({ component: 'authserver' }), this.audit && ((event) => this.audit!.record(auditEventOfAuth(event))), () => undefined);
    return new UserGrants(this.store, new TokenDenylist(this.store), (kind, fields) => events.emit(kind, fields));
  }

  /** Users' connections to per-user upstream servers (auth: oauth-user): list and revoke. */
  credentialConnections(): UserConnections {
    return this.credentials.connections;
  }

  /** Audit queue counters for metrics; undefined when audit is off. */
  auditCounters(): AuditCounters | undefined {
    return this.audit?.counters;
  }

  /** Tool definition changes this node recorded, per server (a metric). */
  toolDefinitionChanges(): ReadonlyMap<string, number> {
    return this.pinning.changes;
  }

  /** stderr of stdio children not logged (over their budget), per server; kept across reloads. */
  stderrDropped(): Record<string, StderrDropped> {
    return Object.fromEntries(this.stderrDroppedByServer);
  }

  private stderrDroppedOf(server: string): StderrDropped {
    let dropped = this.stderrDroppedByServer.get(server);
    if (!dropped) this.stderrDroppedByServer.set(server, (dropped = { lines: 0, bytes: 0 }));
    return dropped;
  }

  private childSlotsOf(server: string, maxChildren: number): ChildSlots {
    let slots = this.childSlots.get(server);
    if (!slots) this.childSlots.set(server, (slots = new ChildSlots(server, maxChildren)));
    slots.limit = maxChildren;
    return slots;
  }

  /** Open and refused client connections per listener (`mcp`, and `admin` when it runs). */
  configVersion(): number | undefined {
    return this.control?.served;
  }

  /** Live nodes and forwarding counts (src/cluster/); undefined when cluster is off. */
  clusterStats(): { nodes: number; forwarded: { ok: number; ownerGone: number; timeout: number; broken: number }; refused: number } | undefined {
    return this.cluster && { nodes: this.cluster.registry.size, forwarded: this.cluster.stats.forwarded, refused: this.cluster.stats.refused };
  }

  connectionStats(): Record<string, ConnectionStats> {
    const out: Record<string, ConnectionStats> = { mcp: this.listener.connections };
    if (this.admin) out.admin = this.admin.connections;
    return out;
  }

  sessionCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, { upstream }] of this.upstreams) out[name] = upstream.sessionCount();
    return out;
  }

  private globals(config: ConfigData): UpstreamGlobals {
    return {
      connectTimeout: config.timeouts.connect,
      responseTimeout: config.timeouts.response,
      maxResponseBytes: config.limits.maxResponseBytes,
      maxJsonDepth: config.limits.maxJsonDepth,
      idleTimeout: config.sessions.idleTimeout,
    };
  }

  private syncUpstreams(config: ConfigData): void {
    const globals = this.globals(config);
    this.egressTenants = config.tenants;
    for (const [name, server] of Object.entries(config.servers)) {
      const definition = JSON.stringify([server, globals, this.egressOf(server)?.key]);
      const existing = this.upstreams.get(name);
      if (existing?.definition === definition) continue;
      if (existing && existing.kind === serverKind(server)) {
        this.updateUpstream(name, existing.upstream, server, globals);
        existing.definition = definition;
        continue;
      }
      if (existing) void existing.upstream.close();
      this.upstreams.set(name, { upstream: this.createUpstream(name, server, globals), definition, kind: serverKind(server) });
    }
    this.syncBridges(config, globals);
    const federated = this.syncFederated(config, globals);
    for (const [name, { upstream }] of this.upstreams) {
      if (!(name in config.servers) && !federated.has(name)) {
        this.upstreams.delete(name);
        void upstream.close();
      }
    }
  }

  /**
   * The era adapters of each server: a pool of 2025 sessions for 2026-07-28 clients (opened over
   * the server's own transport: a stdio child, an HTTP+SSE connection, or a Streamable HTTP
   * session on the federation's member client, one undici pool per server) and, for Streamable HTTP, the probe that tells
   * whether the server needs it. Kept across reloads that leave the server as it was.
   */
  private syncBridges(config: ConfigData, globals: UpstreamGlobals): void {
    for (const [name, server] of Object.entries(config.servers)) {
      const definition = JSON.stringify([server, globals, this.egressOf(server)?.key]);
      const existing = this.bridges.get(name);
      if (existing?.definition === definition) continue;
      const log = this.log.child({ server: name, bridge: '2026→2025' });
      let factory: SessionChannelFactory;
      let limits: ChannelLimits;
      let target: ConstructorParameters<typeof EraProbe>[0] | undefined;
      let modernTarget: ModernTarget | undefined;
      if ('url' in server) {
        const member = this.httpMember(name, server, globals);
        // A server that wants each user's own token gets it from the session's caller (session-pool.ts).
        const perUser = member.credentials?.perUser === true;
        factory = (log, caller) => new HttpMemberChannel(member, log, undefined, perUser ? caller : undefined);
        limits = { maxSessions: 1024, idleTimeout: globals.idleTimeout, responseTimeout: member.responseTimeout };
        target = { url: server.url, headers: server.headers, credentials: member.credentials, timeoutMs: member.responseTimeout, connectTimeoutMs: server.timeouts?.connect ?? globals.connectTimeout, egress: this.egressOf(server) };
        modernTarget = { url: server.url, client: member.client, headers: server.headers, credentials: member.credentials, responseTimeout: member.responseTimeout, maxResponseBytes: globals.maxResponseBytes };
      } else {
        const [make, channelLimits] = this.channelSetup(name, server, globals);
        factory = (log) => make(log, { id: '' });
        limits = channelLimits;
      }
      if (existing && (existing.bridges.probe !== undefined) === (target !== undefined)) {
        existing.bridges.modernClient.update(factory, limits);
        if (target) existing.bridges.probe!.update(target);
        if (modernTarget) existing.bridges.legacyClient!.update(modernTarget);
        existing.definition = definition;
        continue;
      }
      if (existing) {
        void existing.bridges.modernClient.close();
        existing.bridges.legacyClient?.close();
      }
      const modernClient = new ModernClientBridge(name, factory, limits, this.sealed.requestStates, this.sealed.taskIds, this.nodeId, log, this.openStreams);
      const legacyClient = modernTarget && new LegacyClientBridge(name, modernTarget, this.sealer, this.sealed.taskIds, this.log.child({ server: name, bridge: '2025→2026' }), this.nodeId, this.openStreams);
      this.bridges.set(name, { bridges: { modernClient, probe: target && new EraProbe(target), legacyClient }, definition });
    }
    for (const [name, { bridges }] of this.bridges) {
      // Federated APIs' adapters (`@<api>`) are kept by syncFederated.
      if (!(name in config.servers) && !name.startsWith('@')) {
        this.bridges.delete(name);
        void bridges.modernClient.close();
        bridges.legacyClient?.close();
      }
    }
  }

  /**
   * One connector per federated API or virtual server (named `@<api>`): a channel connector whose
   * channel is a FederatedChannel over member channels of the API's servers. Returns their names.
   */
  private syncFederated(config: ConfigData, globals: UpstreamGlobals): Set<string> {
    const names = new Set<string>();
    for (const api of config.apis) {
      if (!isFederated(api)) continue;
      const name = connectorName(api);
      names.add(name);
      const plan = compileFederationPlan(api);
      const members = plan.members.map((server) => [server, config.servers[server]]);
      const definition = JSON.stringify([api.servers, api.namespace, api.onUpstreamFailure, api.tools, api.prompts, api.resources, members, globals]);
      const existing = this.upstreams.get(name);
      if (existing?.definition === definition) continue;
      const [factory, limits, revival, bridged] = this.federationSetup(plan, config, globals);
      this.syncFederatedBridge(api.name, name, bridged, limits, definition);
      if (existing && existing.upstream instanceof ChannelUpstream) {
        existing.upstream.update(factory, limits, revival);
        existing.definition = definition;
        continue;
      }
      const log = this.log.child({ api: api.name, federated: true });
      this.upstreams.set(name, { upstream: new ChannelUpstream(name, factory, limits, this.nodeId, this.sealer, log, this.openStreams, revival), definition, kind: 'federated' });
    }
    for (const [name, { bridges }] of this.bridges) {
      if (name.startsWith('@') && !names.has(name)) {
        this.bridges.delete(name);
        void bridges.modernClient.close();
      }
    }
    return names;
  }

  /**
   * The era adapter of a federated API for 2026-07-28 clients: a pool of 2025-side sessions, each
   * a FederatedChannel of its own (node-local, not stored) that holds one member session per
   * server, each negotiating its own revision. A changed API retires the pooled sessions, so that
   * later requests route with the new plan (the ACL already resolves names with it).
   */
  private syncFederatedBridge(api: string, name: string, factory: SessionChannelFactory, limits: ChannelLimits, definition: string): void {
    const existing = this.bridges.get(name);
    if (existing) {
      existing.bridges.modernClient.update(factory, limits);
      existing.bridges.modernClient.pool.retire();
      existing.definition = definition;
      return;
    }
    const modernClient = new ModernClientBridge(name, factory, limits, this.sealed.requestStates, this.sealed.taskIds, this.nodeId, this.log.child({ api, federated: true, bridge: '2026→2025' }), this.openStreams);
    this.bridges.set(name, { bridges: { modernClient, probe: undefined, legacyClient: undefined, memberForward: new ModernMemberForwarder(this.sealed.taskIds, this.nodeId) }, definition });
  }

  /** A Streamable HTTP server reached as a message channel (federation members, bridged sessions): one pool per server. */
  private httpMember(name: string, server: Extract<ConfigData['servers'][string], { url: string }>, globals: UpstreamGlobals): HttpMemberConfig {
    return {
      url: server.url,
      client: this.memberClients.get(server.url, server.timeouts?.connect ?? globals.connectTimeout, this.egressOf(server)),
      headers: server.headers,
      credentials: this.credentials.forHttpServer(name, server, this.egressOf(server)),
      responseTimeout: server.timeouts?.response ?? globals.responseTimeout,
      maxResponseBytes: globals.maxResponseBytes,
      maxJsonDepth: globals.maxJsonDepth,
    };
  }

  /** The connector's channel factory, limits and revival (stored sessions), and the channels of the API's 2026-07-28 bridge. */
  private federationSetup(plan: FederationPlan, config: ConfigData, globals: UpstreamGlobals): [ChannelFactory, ChannelLimits, ChannelRevival | undefined, SessionChannelFactory] {
    const memberFactories = new Map<string, MemberFactory>();
    const http = plan.members.every((server) => config.servers[server] !== undefined && 'url' in config.servers[server]);
    for (const server of plan.members) {
      const definition = config.servers[server];
      if (!definition) continue;
      if ('url' in definition) {
        const member = this.httpMember(server, definition, globals);
        const modern: ModernTarget = { url: definition.url, client: member.client, headers: definition.headers, credentials: member.credentials, responseTimeout: member.responseTimeout, maxResponseBytes: globals.maxResponseBytes };
        // The server's own era probe (syncBridges made it): a member that speaks 2026-07-28 is spoken to sessionlessly.
        if (member.credentials?.perUser === true) {
          // Each user's own token: a 2025 session per client session, sending for its caller.
          memberFactories.set(server, (_server, log, resume, caller) => new HttpMemberChannel(member, log, resume, caller ?? { current: undefined }));
        } else {
          memberFactories.set(server, (_server, log, resume) => httpMemberChannel(server, member, modern, this.bridges.get(server)?.bridges.probe, log, resume));
        }
      } else {
        const make = this.channelSetup(server, definition, globals)[0];
        memberFactories.set(server, (_server, log) => make(log, { id: '' }));
      }
    }
    const members: MemberFactory = (server, log, resume, caller) => {
      const make = memberFactories.get(server);
      if (!make) throw new Error(`server "${server}" is not configured`);
      return make(server, log, resume, caller);
    };
    const timeouts = { response: globals.responseTimeout };
    const inits = new MemberInits();
    const taskIds = this.sealed.federatedTaskIds;
    const limits = { maxSessions: 1024, idleTimeout: globals.idleTimeout, responseTimeout: globals.responseTimeout };
    // Every member over Streamable HTTP: sessions are kept in the shared store, any node continues them.
    const stored = http ? new FederatedSessionStore(this.store, plan.api, this.sealed.federatedSessions, this.log.child({ api: plan.api })) : undefined;
    const factory: ChannelFactory = (log, session) =>
      new FederatedChannel(plan, members, log, timeouts, inits, { ids: taskIds, binding: `${plan.api}\n${session.id}` }, stored?.for(session.id), session.stored as FederatedState | undefined, session.caller);
    // Bridged sessions are the bridge's own (keyed by agent and declaration), never stored: their
    // task ids are bound to the one session (the bridge seals them again for the agent).
    const bridged: SessionChannelFactory = (log, caller) =>
      new FederatedChannel(plan, members, log, timeouts, inits, { ids: taskIds, binding: `${plan.api}\nbridged ${randomUUID()}` }, undefined, undefined, caller);
    return [factory, limits, stored && { load: (id: string) => stored.load(id) }, bridged];
  }

  private createUpstream(name: string, server: ServerData, globals: UpstreamGlobals): Upstream {
    const log = this.log.child({ server: name });
    if ('url' in server) return new StreamableHttpUpstream(name, { ...server, egress: this.egressOf(server) }, globals, this.sealer, log, this.credentials.forHttpServer(name, server, this.egressOf(server)), this.openStreams);
    const [factory, limits] = this.channelSetup(name, server, globals);
    return new ChannelUpstream(name, factory, limits, this.nodeId, this.sealer, log, this.openStreams);
  }

  private updateUpstream(name: string, upstream: Upstream, server: ServerData, globals: UpstreamGlobals): void {
    if (upstream instanceof StreamableHttpUpstream && 'url' in server) upstream.update({ ...server, egress: this.egressOf(server) }, globals, this.credentials.forHttpServer(name, server, this.egressOf(server)));
    else if (upstream instanceof ChannelUpstream && !('url' in server)) upstream.update(...this.channelSetup(name, server, globals));
  }

  private channelSetup(name: string, server: Exclude<ServerData, { url: string }>, globals: UpstreamGlobals): [ChannelFactory, ChannelLimits] {
    if ('command' in server) {
      const limits = { maxSessions: server.maxChildren, idleTimeout: server.idleTimeout ?? globals.idleTimeout, responseTimeout: server.timeouts?.response ?? globals.responseTimeout };
      const stderr = { limits: server.stderr, dropped: this.stderrDroppedOf(name) };
      const slots = this.childSlotsOf(name, server.maxChildren);
      return [(log) => new StdioChannel(server, log, globals.maxResponseBytes, stderr, globals.maxJsonDepth, slots), limits];
    }
    const sseConfig = {
      sse: server.sse,
      headers: server.headers,
      connectTimeout: server.timeouts?.connect ?? globals.connectTimeout,
      responseTimeout: server.timeouts?.response ?? globals.responseTimeout,
      maxEventBytes: globals.maxResponseBytes,
      maxJsonDepth: globals.maxJsonDepth,
      credentials: this.credentials.forServer(name, server.credential, this.egressOf(server)),
    };
    const agent = this.sseAgentFor(this.egressOf(server));
    return [(log) => new SseChannel(sseConfig, agent, log), { maxSessions: 1024, idleTimeout: globals.idleTimeout, responseTimeout: sseConfig.responseTimeout }];
  }

  /** Where a server may connect: its tenant's egress rule (none for the default tenant's servers). */
  private egressOf(server: ServerData): EgressRule | undefined {
    return egressRuleOf(this.egressTenants, server.tenant);
  }

  /** The HTTP+SSE agent of an egress rule (the shared one without a rule). */
  private sseAgentFor(egress: EgressRule | undefined): Agent {
    if (!egress) return this.sseAgent;
    let agent = this.sseAgents.get(egress.key);
    if (!agent) this.sseAgents.set(egress.key, (agent = new Agent({ keepAliveTimeout: 30_000, connect: egressConnector(egress, {}) })));
    return agent;
  }

  private reap(): void {
    const now = Date.now();
    for (const { upstream } of this.upstreams.values()) upstream.reap(now);
    for (const { bridges } of this.bridges.values()) bridges.modernClient.reap(now);
    // Stored federated sessions past their TTL, at most once an hour.
    if (now - this.prunedAt > 3_600_000) {
      this.prunedAt = now;
      this.store.pruneFederatedSessions(now).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not prune stored federated sessions'));
      this.taint.prune(now).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not prune expired session taints'));
    }
  }

  /** Drains requests in flight (up to timeouts.drain), then stops every upstream session. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.reaper);
      // Out of the registry first: other nodes answer 404 for this node's sessions at once, and
      // their clients initialize again elsewhere rather than meet a node that is draining.
      await this.cluster?.leave();
      await this.admin?.close();
      await this.control?.close().catch((err: unknown) => this.log.error({ err }, 'could not close the control store'));
      for (const { upstream } of this.upstreams.values()) upstream.endStreams();
      const { drained, cut } = await this.listener.drain(this.config.timeouts.drain);
      await this.cluster?.close();
      this.approvalQueue?.stop();
      // Every exchange has finished: write what the audit log still holds before stopping.
      await this.audit?.close().catch((err: unknown) => this.log.error({ err }, 'could not flush the audit log'));
      await Promise.all([...this.upstreams.values()].map(({ upstream }) => upstream.close()));
      await Promise.all([...this.bridges.values()].map(({ bridges }) => bridges.modernClient.close()));
      this.memberClients.close();
      await this.sseAgent.close().catch(() => undefined);
      for (const agent of this.sseAgents.values()) await agent.close().catch(() => undefined);
      await this.pinning.close();
      await this.store.close().catch(() => undefined);
      await this.counters.close();
      await this.observability?.close().catch((err: unknown) => this.log.error({ err }, 'could not export the last spans'));
      this.lock.release();
      this.log.info({ drained, cut }, 'gatehouse stopped');
    })();
    return this.closing;
  }
}

type ServerKind = 'url' | 'command' | 'sse' | 'federated';

/** The MCP listener's client limits; warns when the connection cap leaves too few files for the rest. */
function clientLimits(config: ConfigData, log: Logger): ClientLimits {
  const files = openFileLimit();
  const maxConnections = config.limits.maxConnections ?? defaultMaxConnections(files);
  const admin = config.admin.enabled ? config.admin.maxConnections : 0;
  if (files !== undefined && maxConnections + admin > files - 64) {
    log.warn(
      { maxConnections, adminMaxConnections: admin, openFileLimit: files },
      'the connection caps (limits.maxConnections, admin.maxConnections) come close to the open-file limit: a flood of connections could leave no file descriptors for upstreams, stdio children and the store; lower the caps or raise the limit (ulimit -n, LimitNOFILE)',
    );
  }
  return { headersTimeout: config.timeouts.clientHeaders, requestTimeout: config.timeouts.clientRequest, idleTimeout: config.timeouts.clientIdle, maxConnections };
}

/** The base URL other nodes forward to: cluster.advertiseUrl, else the MCP listener's own address. */
function advertiseUrl(config: ConfigData, scheme: 'http' | 'https', port: number): string {
  if (config.cluster.advertiseUrl !== undefined) return config.cluster.advertiseUrl.replace(/\/+$/, '');
  const host = config.listen.host;
  const shown = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${shown}:${port}`;
}

/** How often to look for idle sessions: half the shortest idle timeout (global or a stdio server's own), within 1–30 s. */
function reapInterval(config: ConfigData): number {
  let shortest = config.sessions.idleTimeout;
  for (const server of Object.values(config.servers)) {
    if ('command' in server && server.idleTimeout !== undefined) shortest = Math.min(shortest, server.idleTimeout);
  }
  return Math.max(1000, Math.min(30_000, shortest / 2));
}

function serverKind(server: ServerData): ServerKind {
  return 'url' in server ? 'url' : 'command' in server ? 'command' : 'sse';
}

export function startGateway(options: GatewayOptions): Promise<Gateway> {
  return Gateway.start(options);
}
