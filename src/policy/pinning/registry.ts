// What this node knows of the pinned tools: one Map per server of tool → (hash last seen, hash
// approved), loaded from the store at start, kept current by this node's lists and by a short
// poll of the store (approvals made elsewhere: another node, the CLI). Judging a listed tool is
// a Map lookup and a hash compare; judging a call is a Map lookup. The store is written only when
// a definition is new or changed (or, for the last-seen time, every few minutes), in the
// background: a list is never held up by the store.
import type { Logger } from '../../log.ts';
import type { FirstUseTrust, SeenTool, Store, ToolPinRecord } from '../../store/store.ts';
import { trustsNewTool } from '../../store/tool-pin-rows.ts';

/** How often the store is read for approvals and definitions other nodes recorded. */
export const PIN_POLL_MS = 2000;
/** A tool seen unchanged has its last-seen time written at most this often. */
const SEEN_REFRESH_MS = 10 * 60_000;

interface PinState {
  hash: string;
  approvedHash: string | undefined;
  /** When this node last wrote (or read) the row: unchanged sightings are not written before SEEN_REFRESH_MS. */
  writtenAt: number;
}

export interface DefinitionChange {
  readonly server: string;
  readonly tool: string;
  readonly oldHash: string;
  readonly newHash: string;
  readonly at: number;
  /** Whether the new definition is the approved one (e.g. a change back to it). */
  readonly approved: boolean;
  /** The list that showed it: its API, the agent that asked, and the mode the API holds the server to. */
  readonly origin: ListOrigin;
}

export interface ListOrigin {
  readonly api: string;
  readonly agent: string;
  readonly mode: string;
}

export interface PinningEvents {
  /** A definition changed (reported by the one node whose write saw the change). */
  changed(change: DefinitionChange, listener: ((change: DefinitionChange) => void) | undefined): void;
  /** Approvals read from the store changed what may be shown of these servers' tools. */
  approvalsChanged?(servers: ReadonlySet<string>): void;
}

export class PinningRegistry {
  private readonly servers = new Map<string, Map<string, PinState>>();
  /** Keys (server \n tool) with a write in flight: a poll does not overwrite what it is about to change. */
  private readonly writing = new Set<string>();
  /** Changes seen per server, for gatehouse_tool_definition_changes_total. */
  readonly changes = new Map<string, number>();
  /** Background writes in flight (awaited on close). */
  private readonly pending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly events: PinningEvents,
  ) {}

  async start(pollMs = PIN_POLL_MS): Promise<void> {
    await this.refresh().catch((error: unknown) => this.log.warn({ err: error }, 'tool pinning: could not read the pinned tools from the store; will retry'));
    this.timer = setInterval(() => void this.refresh().catch((error: unknown) => this.log.warn({ err: error }, 'tool pinning: could not read the pinned tools from the store')), pollMs).unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    await this.idle();
  }

  /** Resolves once the writes started so far have finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Reads every pinned tool from the store (one query; the table holds one row per tool). */
  refresh(): Promise<void> {
    this.polling ??= this.store
      .listToolPins()
      .then((records) => {
        let approved: Set<string> | undefined;
        for (const record of records) {
          if (this.writing.has(key(record.server, record.tool))) continue;
          if (this.apply(record)) (approved ??= new Set()).add(record.server);
        }
        if (approved) this.events.approvalsChanged?.(approved);
      })
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Reads one tool again (after an approval through this node). */
  async refreshOne(server: string, tool: string): Promise<void> {
    const record = await this.store.getToolPin(server, tool);
    if (record && this.apply(record)) this.events.approvalsChanged?.(new Set([server]));
  }

  /** Takes the store's row; true when an approval of a tool this node knew changed. */
  private apply(record: ToolPinRecord): boolean {
    const tools = this.toolsOf(record.server);
    const state = tools.get(record.tool);
    if (!state) {
      tools.set(record.tool, { hash: record.hash, approvedHash: record.approvedHash, writtenAt: record.lastSeenAt });
      return false;
    }
    const approvalChanged = state.approvedHash !== record.approvedHash;
    state.hash = record.hash;
    state.approvedHash = record.approvedHash;
    state.writtenAt = Math.max(state.writtenAt, record.lastSeenAt);
    return approvalChanged;
  }

  private toolsOf(server: string): Map<string, PinState> {
    let tools = this.servers.get(server);
    if (!tools) this.servers.set(server, (tools = new Map()));
    return tools;
  }

  /**
   * One list answer's tools of one server: returns the names whose listed definition is the
   * approved one. Records what is new or changed in the background.
   */
  seenList(server: string, seen: readonly SeenTool[], trust: FirstUseTrust, origin: ListOrigin, listener?: (change: DefinitionChange) => void): Set<string> {
    const now = Date.now();
    const known = this.servers.get(server);
    const serverKnown = known !== undefined && known.size > 0;
    const tools = known ?? this.toolsOf(server);
    const approved = new Set<string>();
    let writes: SeenTool[] | undefined;
    for (const tool of seen) {
      const state = tools.get(tool.tool);
      if (state === undefined) {
        // New here: judged as the store will judge it, so the first list already shows the right thing.
        tools.set(tool.tool, { hash: tool.hash, approvedHash: trustsNewTool(trust, serverKnown) ? tool.hash : undefined, writtenAt: now });
        (writes ??= []).push(tool);
      } else if (state.hash !== tool.hash) {
        state.hash = tool.hash;
        state.writtenAt = now;
        (writes ??= []).push(tool);
      } else if (now - state.writtenAt > SEEN_REFRESH_MS) {
        state.writtenAt = now;
        (writes ??= []).push(tool);
      }
      if (tools.get(tool.tool)!.approvedHash === tool.hash) approved.add(tool.tool);
    }
    if (writes) this.write(server, writes, now, trust, origin, listener);
    return approved;
  }

  private write(server: string, writes: SeenTool[], at: number, trust: FirstUseTrust, origin: ListOrigin, listener: ((change: DefinitionChange) => void) | undefined): void {
    const keys = writes.map((w) => key(server, w.tool));
    for (const k of keys) this.writing.add(k);
    const done: Promise<void> = this.store
      .recordToolDefinitions(server, writes, at, trust)
      .then((results) => {
        for (const k of keys) this.writing.delete(k);
        for (const { previousHash, record } of results) {
          this.apply(record);
          if (previousHash !== undefined && previousHash !== record.hash) {
            this.changes.set(server, (this.changes.get(server) ?? 0) + 1);
            this.events.changed({ server, tool: record.tool, oldHash: previousHash, newHash: record.hash, at, approved: record.approvedHash === record.hash, origin }, listener);
          }
        }
      })
      .catch((error: unknown) => {
        for (const k of keys) this.writing.delete(k);
        this.log.error({ err: error, server }, 'tool pinning: could not record tool definitions in the store');
      })
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /**
   * Whether a call of the tool may go through under enforce or approve-new: its last seen
   * definition is the approved one. A tool this node does not know is looked up in the store
   * (then remembered); one never seen anywhere is refused.
   */
  callable(server: string, tool: string): boolean | Promise<boolean> {
    const state = this.servers.get(server)?.get(tool);
    if (state) return state.approvedHash === state.hash;
    return this.store.getToolPin(server, tool).then((record) => {
      if (!record) return false;
      this.apply(record);
      return record.approvedHash === record.hash;
    });
  }
}

function key(server: string, tool: string): string {
  return `${server}\n${tool}`;
}
