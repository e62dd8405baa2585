// A running Gatehouse: the listener, the compiled config, one connector per server, the session
// sealer. Reload swaps the compiled config atomically and updates connectors in place, so
// sessions survive; close drains requests in flight and stops stdio children.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Agent } from 'undici';
import type { Logger } from './log.ts';
import { createLogger } from './log.ts';
import { validateConfig } from './config/load.ts';
import type { ConfigData, ConfigInput, ServerData } from './config/schema.ts';
import { compileRuntime, type Runtime } from './config/compile.ts';
import { SessionSealer } from './session/seal.ts';
import { loadSessionKey } from './session/key.ts';
import { Listener } from './http/listener.ts';
import type { Upstream, UpstreamGlobals } from './upstream/upstream.ts';
import { StreamableHttpUpstream } from './upstream/streamable-http.ts';
import { ChannelUpstream, type ChannelFactory, type ChannelLimits } from './upstream/channel-upstream.ts';
import { StdioChannel } from './upstream/stdio-channel.ts';
import { SseChannel } from './upstream/sse-channel.ts';

export interface GatewayOptions {
  /** Config as an object (validated here) or already validated. */
  config: ConfigInput | ConfigData;
  /** File the config came from (for messages and the default data directory). */
  configPath?: string;
  logger?: Logger;
  /** Where the session key file lives; default GATEHOUSE_DATA_DIR, else .gatehouse beside the config. */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
}

export class Gateway {
  private runtime: Runtime;
  private readonly upstreams = new Map<string, { upstream: Upstream; definition: string; kind: ServerKind }>();
  private readonly reaper: NodeJS.Timeout;
  private readonly sseAgent = new Agent({ keepAliveTimeout: 30_000 });
  private closing: Promise<void> | undefined;
  readonly nodeId = randomBytes(6).toString('base64url');

  private constructor(
    config: ConfigData,
    private readonly listener: Listener,
    private readonly sealer: SessionSealer,
    readonly log: Logger,
    readonly port: number,
  ) {
    this.runtime = compileRuntime(config);
    this.syncUpstreams(config);
    const interval = Math.max(1000, Math.min(30_000, config.sessions.idleTimeout / 2));
    this.reaper = setInterval(() => this.reap(), interval).unref();
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const env = options.env ?? process.env;
    const config = validateConfig(options.config, options.configPath ?? '(inline config)');
    const log = options.logger ?? createLogger(config.log.level);
    const dataDir = options.dataDir ?? env.GATEHOUSE_DATA_DIR ?? path.join(options.configPath ? path.dirname(path.resolve(options.configPath)) : process.cwd(), '.gatehouse');
    const { key, source } = await loadSessionKey(dataDir, env);
    const sealer = new SessionSealer(key);
    let gateway: Gateway | undefined;
    const listener = new Listener(
      { runtime: () => gateway!.runtime, sealer, upstream: (name) => gateway!.upstreams.get(name)?.upstream, log },
      config.limits.maxHeaderBytes,
    );
    const port = await listener.listen(config.listen.port, config.listen.host);
    gateway = new Gateway(config, listener, sealer, log, port);
    log.info({ host: config.listen.host, port, apis: config.apis.map((a) => a.path), sessionKey: source }, 'gatehouse listening');
    return gateway;
  }

  get config(): ConfigData {
    return this.runtime.config;
  }

  /** The URL clients use for an API. */
  url(apiName?: string): string {
    const api = apiName ? this.config.apis.find((a) => a.name === apiName) : this.config.apis[0];
    if (!api) throw new Error(`no API named ${apiName}`);
    const host = this.config.listen.host;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `http://${shown}:${this.port}${api.path}`;
  }

  /** Applies a new, already validated config. Listener address changes need a restart. */
  reload(config: ConfigData): void {
    const before = this.runtime.config.listen;
    if (before.host !== config.listen.host || before.port !== config.listen.port) {
      this.log.warn('listen address changes take effect on restart; keeping the current listener');
    }
    this.syncUpstreams(config);
    this.runtime = compileRuntime(config);
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
      idleTimeout: config.sessions.idleTimeout,
    };
  }

  private syncUpstreams(config: ConfigData): void {
    const globals = this.globals(config);
    for (const [name, server] of Object.entries(config.servers)) {
      const definition = JSON.stringify([server, globals]);
      const existing = this.upstreams.get(name);
      if (existing?.definition === definition) continue;
      if (existing && existing.kind === serverKind(server)) {
        this.updateUpstream(existing.upstream, server, globals);
        existing.definition = definition;
        continue;
      }
      if (existing) void existing.upstream.close();
      this.upstreams.set(name, { upstream: this.createUpstream(name, server, globals), definition, kind: serverKind(server) });
    }
    for (const [name, { upstream }] of this.upstreams) {
      if (!(name in config.servers)) {
        this.upstreams.delete(name);
        void upstream.close();
      }
    }
  }

  private createUpstream(name: string, server: ServerData, globals: UpstreamGlobals): Upstream {
    const log = this.log.child({ server: name });
    if ('url' in server) return new StreamableHttpUpstream(name, server, globals, this.sealer, log);
    const [factory, limits] = this.channelSetup(server, globals);
    return new ChannelUpstream(name, factory, limits, this.nodeId, this.sealer, log);
  }

  private updateUpstream(upstream: Upstream, server: ServerData, globals: UpstreamGlobals): void {
    if (upstream instanceof StreamableHttpUpstream && 'url' in server) upstream.update(server, globals);
    else if (upstream instanceof ChannelUpstream && !('url' in server)) upstream.update(...this.channelSetup(server, globals));
  }

  private channelSetup(server: Exclude<ServerData, { url: string }>, globals: UpstreamGlobals): [ChannelFactory, ChannelLimits] {
    if ('command' in server) {
      const limits = { maxSessions: server.maxChildren, idleTimeout: server.idleTimeout ?? globals.idleTimeout };
      return [(log) => new StdioChannel(server, log, globals.maxResponseBytes), limits];
    }
    const sseConfig = {
      sse: server.sse,
      headers: server.headers,
      connectTimeout: server.timeouts?.connect ?? globals.connectTimeout,
      responseTimeout: server.timeouts?.response ?? globals.responseTimeout,
      maxEventBytes: globals.maxResponseBytes,
    };
    return [(log) => new SseChannel(sseConfig, this.sseAgent, log), { maxSessions: 1024, idleTimeout: globals.idleTimeout }];
  }

  private reap(): void {
    const now = Date.now();
    for (const { upstream } of this.upstreams.values()) upstream.reap(now);
  }

  /** Drains requests in flight (up to timeouts.drain), then stops every upstream session. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.reaper);
      for (const { upstream } of this.upstreams.values()) upstream.endStreams();
      const { drained, cut } = await this.listener.drain(this.config.timeouts.drain);
      await Promise.all([...this.upstreams.values()].map(({ upstream }) => upstream.close()));
      await this.sseAgent.close().catch(() => undefined);
      this.log.info({ drained, cut }, 'gatehouse stopped');
    })();
    return this.closing;
  }
}

type ServerKind = 'url' | 'command' | 'sse';

function serverKind(server: ServerData): ServerKind {
  return 'url' in server ? 'url' : 'command' in server ? 'command' : 'sse';
}

export function startGateway(options: GatewayOptions): Promise<Gateway> {
  return Gateway.start(options);
}
