// One server of a federated client session: its message channel (a stdio child, an HTTP+SSE
// connection, or a Streamable HTTP session), its initialize result, the requests it has not
// answered yet (under ids of its own, so that ids of two servers never meet), and its cached
// lists. A member that ends is started again by its session (federated-channel.ts).
import type { Logger } from '../../log.ts';
import { idKey, isObject, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from '../../mcp/jsonrpc.ts';
import type { MessageChannel } from '../channel.ts';
import type { CallerSlot } from '../upstream.ts';

/**
 * Makes a member's channel; `resume` names an upstream session to take over (Streamable HTTP
 * members). A promise when the server's era must be learned first (member-era.ts).
 */
export type MemberFactory = (server: string, log: Logger, resume?: { readonly sessionId: string; readonly protocolVersion: string }, caller?: CallerSlot) => MessageChannel | Promise<MessageChannel>;

/** What waits for a member's answer: a client request forwarded to it, or Gatehouse's own. */
export type Waiter =
  | { readonly kind: 'client'; readonly clientId: JsonRpcId; readonly method: string; readonly message: JsonRpcMessage }
  | { readonly kind: 'internal'; readonly resolve: (answer: JsonRpcResponse) => void; readonly reject: (error: Error) => void; readonly timer: NodeJS.Timeout };

export interface MemberInit {
  readonly protocolVersion: string;
  readonly capabilities: JsonObject;
  readonly serverInfo: JsonObject | undefined;
  readonly instructions: string | undefined;
}

/** A list as the server gave it, page by page (each server's own pagination is kept). */
export interface CachedList {
  readonly pages: ReadonlyArray<readonly JsonObject[]>;
}

export type ListMethod = 'tools/list' | 'prompts/list' | 'resources/list' | 'resources/templates/list';

const MAX_LIST_PAGES = 100;

export class Member {
  state: 'idle' | 'starting' | 'up' | 'down' = 'idle';
  channel: MessageChannel | undefined;
  init: MemberInit | undefined;
  readonly pending = new Map<string, Waiter>();
  readonly lists = new Map<ListMethod, CachedList>();
  /** Lists being fetched, so that concurrent list requests share one fetch. */
  readonly listing = new Map<ListMethod, Promise<CachedList>>();
  starting: Promise<boolean> | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  retryDelay = 0;
  /** Why it is down (logs, errors). */
  reason = '';
  /**
   * Why the session's user cannot be served by this server yet (no upstream token: a connect
   * prompt, or a refusal): the member is left out of lists and started again on demand (a call
   * routed to it, which gets the prompt; a list after REFUSAL_RECHECK_MS), never on a timer.
   */
  refusal: Error | undefined;
  refusedAt = 0;
  /** Opened by Gatehouse on its own (initialize, a list): a user without a token gets no connect link for it. */
  quiet = false;
  private nextId = 0;

  constructor(
    readonly server: string,
    readonly index: number,
    readonly log: Logger,
  ) {}

  /**
   * A fresh id on this member's channel. Gatehouse's own ids are strings (`gh-1`, …) and client
   * requests keep their own id when it is free here (federated-channel.ts), so that their answers
   * need no id rewrite; an id in use is never handed out again.
   */
  newId(): string {
    let id: string;
    do id = `gh-${++this.nextId}`;
    while (this.pending.has(idKey(id)));
    return id;
  }

  /** Sends; false when the channel is gone. */
  send(message: JsonRpcMessage): boolean {
    if (!this.channel || this.state === 'down' || this.state === 'idle') return false;
    try {
      this.channel.send(message);
      return true;
    } catch {
      return false;
    }
  }

  /** A request of Gatehouse's own (initialize, list pages, setLevel): its answer, or a rejection. */
  request(method: string, params: JsonObject | undefined, timeoutMs: number): Promise<JsonRpcResponse> {
    const id = this.newId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(idKey(id));
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(idKey(id), { kind: 'internal', resolve, reject, timer });
      const message: JsonRpcMessage = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
      if (!this.send(message)) {
        clearTimeout(timer);
        this.pending.delete(idKey(id));
        reject(new Error('not running'));
      }
    });
  }

  /** Every page of one list, following the server's cursors (cached until invalidated). */
  list(method: ListMethod, timeoutMs: number): Promise<CachedList> {
    const cached = this.lists.get(method);
    if (cached) return Promise.resolve(cached);
    let running = this.listing.get(method);
    if (!running) {
      const channel = this.channel;
      running = this.fetchList(method, timeoutMs).then(
        (list) => {
          // A list fetched from a channel that has since ended is not kept.
          if (this.channel === channel && this.state === 'up') this.lists.set(method, list);
          this.listing.delete(method);
          return list;
        },
        (error: unknown) => {
          this.listing.delete(method);
          throw error;
        },
      );
      this.listing.set(method, running);
    }
    return running;
  }

  private async fetchList(method: ListMethod, timeoutMs: number): Promise<CachedList> {
    const field = LIST_FIELD[method];
    const pages: JsonObject[][] = [];
    let cursor: string | undefined;
    do {
      const answer = await this.request(method, cursor === undefined ? undefined : { cursor }, timeoutMs);
      if (answer.error) throw new Error(`${method} failed: ${answer.error.message}`);
      const result = isObject(answer.result) ? answer.result : {};
      const items = Array.isArray(result[field]) ? (result[field] as unknown[]).filter(isObject) : [];
      pages.push(items);
      cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
    } while (cursor !== undefined && pages.length < MAX_LIST_PAGES);
    if (cursor !== undefined) this.log.warn({ method, pages: pages.length }, 'list has more pages than Gatehouse follows; the rest is left out');
    return { pages };
  }

  /** Drops cached lists (the server said they changed, or its session ended). */
  invalidate(methods: readonly ListMethod[] = ALL_LISTS): void {
    for (const method of methods) {
      this.lists.delete(method);
      this.listing.delete(method);
    }
  }

  /** Fails every internal request still waiting; returns the client requests that were waiting. */
  takePending(reason: string): Array<Extract<Waiter, { kind: 'client' }>> {
    const clients: Array<Extract<Waiter, { kind: 'client' }>> = [];
    for (const waiter of this.pending.values()) {
      if (waiter.kind === 'internal') {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(reason));
      } else clients.push(waiter);
    }
    this.pending.clear();
    return clients;
  }

  /** Whether the server declared a capability at initialize. */
  offers(capability: string): boolean {
    return this.state === 'up' && this.init !== undefined && isObject(this.init.capabilities[capability]);
  }
}

export const LIST_FIELD: Readonly<Record<ListMethod, string>> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};

export const ALL_LISTS: readonly ListMethod[] = ['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list'];
