// What a 2026-07-28 server says between requests, for a 2025 side that expects notifications: a
// `subscriptions/listen` stream (2026-07-28 has no standalone GET stream and no
// `resources/subscribe`) asking for the list-changed notifications wanted and the updates of the
// resources subscribed. It serves a federation member's session (`federation/modern-member.ts`)
// and a 2025 client's standalone GET stream on a 2026-07-28-only server (`legacy-listen.ts`).
// Each notification is passed on as the 2025 notification it is, without the subscription id.
// A change of the subscribed resources opens a new stream with the new filter beside the old one,
// which ends a moment after the new one is acknowledged (so an update sent in between is not
// missed). A stream the server ends is opened again, with the lists announced as changed (what
// changed in between was not seen); a server that cannot be reached twice in a row is reported
// lost, so that its user drops what it holds and starts again.
import type { Logger } from '../log.ts';
import { isObject, type JsonObject, type JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { SseParser } from '../mcp/sse.ts';
import { STATELESS_VERSION } from '../mcp/versions.ts';
import { META_SUBSCRIPTION_ID } from './envelope.ts';
import { routingHeaders } from '../mcp/routing-headers.ts';
import type { ModernTarget } from './modern-request.ts';
import { postModern } from './modern-post.ts';

const FILTER_OF: Readonly<Record<string, { filter: string; method: string }>> = {
  tools: { filter: 'toolsListChanged', method: 'notifications/tools/list_changed' },
  prompts: { filter: 'promptsListChanged', method: 'notifications/prompts/list_changed' },
  resources: { filter: 'resourcesListChanged', method: 'notifications/resources/list_changed' },
};
const UPDATED = 'notifications/resources/updated';
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 8_000;
/** Failed connections in a row before the server counts as lost. */
const LOST_AFTER = 2;
/** Streams in a row that ended at once (no acknowledgement) before Gatehouse stops asking. */
const GIVE_UP_AFTER = 5;
/** How long a stream replaced by a new filter may go on when the new one is not acknowledged. */
const OVERLAP_MS = 10_000;
/** How long a replaced stream is still read after its successor was acknowledged. */
const RETIRE_GRACE_MS = 1_000;

export interface ListenCallbacks {
  readonly notification: (message: JsonRpcMessage) => void;
  /** The server could not be reached twice in a row. */
  readonly lost: (reason: string) => void;
  /** Listening ended for good on its own (the server refused it, or kept ending it unacknowledged). */
  readonly ended?: () => void;
  /** Any other notification the server sends on the stream (dropped when absent). */
  readonly other?: (message: JsonRpcMessage) => void;
}

/** Every list kind (a 2025 client's GET stream asks for each: it cannot say which it wants). */
export const ALL_LIST_KINDS: readonly string[] = ['tools', 'prompts', 'resources'];

/** The list kinds whose changes a server offers (`listChanged` in its capabilities). */
export function listChangedKinds(capabilities: JsonObject): string[] {
  return Object.keys(FILTER_OF).filter((kind) => isObject(capabilities[kind]) && (capabilities[kind] as JsonObject).listChanged === true);
}

export class ServerListener {
  private readonly uris = new Set<string>();
  /** Tells the open stream's loop that the filter changed (the next stream opens beside it). */
  private refiltered: (() => void) | undefined;
  private running = false;
  /** Waiting for the next acknowledgement: what it honored, or undefined when none came. */
  private readonly acknowledged: Array<(honored: JsonObject | undefined) => void> = [];
  private wake: (() => void) | undefined;

  private readonly targetOf: () => ModernTarget;
  private readonly metaOf: () => JsonObject;

  constructor(
    /** The server (a function when it may change: a reloaded config). */
    target: ModernTarget | (() => ModernTarget),
    private readonly kinds: readonly string[],
    /** The `_meta` envelope of each listen (a function when it may change: the log level). */
    meta: JsonObject | (() => JsonObject),
    /** Whether the server offers resource subscriptions (`resources.subscribe`). */
    readonly subscribes: boolean,
    ending: AbortSignal,
    private readonly log: Logger,
    private readonly on: ListenCallbacks,
    /** Resources subscribed from the start. */
    resources: Iterable<string> = [],
  ) {
    this.targetOf = typeof target === 'function' ? target : () => target;
    this.metaOf = typeof meta === 'function' ? meta : () => meta;
    for (const uri of resources) this.uris.add(uri);
    ending.addEventListener('abort', () => this.stop(), { once: true });
  }

  private readonly stopped = new AbortController();
  /** Aborted when listening ends for good: the member's end, or stop(). */
  private get ending(): AbortSignal {
    return this.stopped.signal;
  }

  /** Ends listening for good (the member ended, or was initialized again). */
  stop(): void {
    this.stopped.abort();
  }

  /** Starts listening (when there is anything to listen for). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
      for (const settle of this.acknowledged.splice(0)) settle(undefined);
      if (!this.ending.aborted) this.on.ended?.();
    });
  }

  /**
   * Adds (or removes) a resource: the stream is opened again with it. True once the server
   * acknowledged a filter that has it (false: it did not take it, or did not answer in time).
   */
  async subscribe(uri: string, on: boolean, timeoutMs: number): Promise<boolean> {
    if (on) this.uris.add(uri);
    else this.uris.delete(uri);
    if (!on) {
      this.refilter();
      return true;
    }
    const honored = new Promise<JsonObject | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      timer.unref();
      this.acknowledged.push((filter) => {
        clearTimeout(timer);
        resolve(filter);
      });
    });
    this.refilter();
    this.start();
    const filter = await honored;
    const accepted = Array.isArray(filter?.resourceSubscriptions) && filter.resourceSubscriptions.includes(uri);
    if (!accepted) this.uris.delete(uri);
    return accepted;
  }

  /** Replaces the subscribed resources (no wait for the acknowledgement). */
  setResources(uris: Iterable<string>): void {
    this.uris.clear();
    for (const uri of uris) this.uris.add(uri);
    this.refilter();
    this.start();
  }

  private refilter(): void {
    this.refiltered?.();
    this.wake?.();
  }

  private filter(): JsonObject | undefined {
    const notifications: JsonObject = {};
    for (const kind of this.kinds) notifications[FILTER_OF[kind]!.filter] = true;
    if (this.uris.size > 0) notifications.resourceSubscriptions = [...this.uris];
    return Object.keys(notifications).length > 0 ? notifications : undefined;
  }

  private async run(): Promise<void> {
    const relayed = new Set(this.kinds.map((kind) => FILTER_OF[kind]!.method));
    let unreachable = 0;
    let unacknowledged = 0;
    // The next acknowledged stream follows one that ended on its own: changes may have been missed.
    let announce = false;
    // The stream a new filter replaces: it goes on until the new one is acknowledged, so that
    // nothing the server sends in between is missed (a notification may come twice, never not).
    let retiring: AbortController | undefined;
    for (let id = 1; !this.ending.aborted; id++) {
      const notifications = this.filter();
      if (!notifications) return;
      const params: JsonObject = { notifications, _meta: this.metaOf() };
      // The stream's own abort: the end of listening, or its successor's acknowledgement (linked by
      // hand: the ending signal lives as long as the member session, and AbortSignal.any would tie
      // every stream to it).
      const current = new AbortController();
      const replaced = retiring;
      retiring = undefined;
      const refiltered = new Promise<'refilter'>((resolve) => (this.refiltered = () => resolve('refilter')));
      let acknowledged = false;
      const stream = this.stream(id, params, current, relayed, () => {
        acknowledged = true;
        unacknowledged = 0;
        // Not at once: what the server wrote on the old stream before this acknowledgement may
        // still be on its way (another connection).
        if (replaced) setTimeout(() => replaced.abort(), RETIRE_GRACE_MS).unref();
        // A stream opened again after it ended: what changed while none was open was not seen.
        if (announce) for (const method of relayed) this.on.notification({ jsonrpc: '2.0', method });
        announce = false;
      });
      const outcome = await Promise.race([stream, refiltered]);
      this.refiltered = undefined;
      if (outcome === 'refilter') {
        // This stream carries on until the next one is acknowledged (or for OVERLAP_MS at most).
        replaced?.abort();
        retiring = current;
        setTimeout(() => current.abort(), OVERLAP_MS).unref();
        continue;
      }
      replaced?.abort();
      if (this.ending.aborted) return;
      if (outcome.failure && !acknowledged && ++unreachable >= LOST_AFTER) return this.on.lost(`could not be reached (subscriptions/listen: ${outcome.failure.message})`);
      if (outcome.refused) return;
      if (!outcome.failure) unreachable = 0;
      announce = true;
      if (!acknowledged && ++unacknowledged >= GIVE_UP_AFTER) {
        this.log.warn("subscriptions/listen keeps ending unacknowledged: the server's list changes and resource updates are not relayed");
        return;
      }
      await this.pause(Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(unreachable, unacknowledged)));
    }
  }

  /** One listen stream, read until it ends; `refused`: the server does not offer listening. */
  private async stream(id: number, params: JsonObject, current: AbortController, relayed: ReadonlySet<string>, onAcknowledged: () => void): Promise<{ failure?: Error; refused?: true }> {
    const ended = () => current.abort();
    this.ending.addEventListener('abort', ended, { once: true });
    try {
      const target = this.targetOf();
      const response = await postModern(
        target,
        {
          ...target.headers,
          ...(target.credentials ? await target.credentials.headers() : {}),
          ...routingHeaders('subscriptions/listen', params, undefined),
          'content-type': 'application/json',
          accept: 'text/event-stream, application/json',
          'mcp-protocol-version': STATELESS_VERSION,
        },
        JSON.stringify({ jsonrpc: '2.0', id: `gh-listen-${id}`, method: 'subscriptions/listen', params }),
        current.signal,
        0,
      );
      if (response.status < 200 || response.status >= 300 || !response.contentType.startsWith('text/event-stream')) {
        response.cancel();
        this.log.warn({ status: response.status }, 'the server refused subscriptions/listen: its list changes and resource updates are not relayed');
        this.stop();
        return { refused: true };
      }
      const parser = new SseParser((event) => {
        if (event.data === '' || current.signal.aborted) return;
        let message: unknown;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (!isObject(message) || typeof message.method !== 'string' || 'id' in message) return;
        const params = isObject(message.params) ? message.params : {};
        if (message.method === 'notifications/subscriptions/acknowledged') {
          onAcknowledged();
          const honored = isObject(params.notifications) ? params.notifications : {};
          for (const settle of this.acknowledged.splice(0)) settle(honored);
          return;
        }
        if (relayed.has(message.method)) this.on.notification({ jsonrpc: '2.0', method: message.method });
        else if (message.method === UPDATED) {
          if (typeof params.uri === 'string' && this.uris.has(params.uri)) this.on.notification({ jsonrpc: '2.0', method: UPDATED, params: withoutSubscriptionId(params) });
        } else this.on.other?.({ jsonrpc: '2.0', method: message.method, params: withoutSubscriptionId(params) });
      }, target.maxResponseBytes);
      await response.read((chunk) => {
        parser.push(chunk);
        return 'more';
      });
      return {};
    } catch (error) {
      return current.signal.aborted ? {} : { failure: error as Error };
    } finally {
      this.ending.removeEventListener('abort', ended);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.ending.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
      this.ending.addEventListener('abort', done, { once: true });
    });
  }
}

function withoutSubscriptionId(params: JsonObject): JsonObject {
  if (!isObject(params._meta) || !(META_SUBSCRIPTION_ID in params._meta)) return params;
  const { [META_SUBSCRIPTION_ID]: _id, ...meta } = params._meta;
  const { _meta: _all, ...rest } = params;
  return Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest;
}
