// Federated sessions that outlive their node. When every member of a federated API is a
// Streamable HTTP server, nothing of a client session has to stay in one process: the members'
// upstream session ids, the revisions they negotiated and their initialize answers (the merged
// capabilities are made from them) are kept in the store every node shares, under the random
// channel id sealed in the client's session id. Another node with the same session key and store,
// or this one after a restart, finds them there and continues the session on the same upstream
// sessions (http-member.ts takes one over without initialize). A member whose upstream session
// has expired meanwhile answers 404 and is re-initialized transparently, as on the first node.
//
// Why the store and not the sealed id: the initialize answers are far too large for a header,
// and upstream session ids alone would make the id grow with every server (about 60 characters
// each); the sealed id stays the same size whatever the number of servers. The row is written at
// initialize and when a member's session changes, and refreshed at most every half TTL, so the
// hot path does no store I/O.
//
// The row is sealed (AES-256-GCM, a key derived from the session key every node shares, the row's
// API and id as associated data): upstream session ids are bearer secrets for their servers, and
// whoever reads the store (a backup, a read-only database user) must not be able to use them; a
// row altered or copied under another id does not open and is treated as unknown.
import type { Logger } from '../../log.ts';
import { isObject, type JsonObject } from '../../mcp/jsonrpc.ts';
import type { Store } from '../../store/store.ts';
import type { SealBox } from '../../session/seal-box.ts';
import type { MemberInit } from './member.ts';

export interface StoredMember {
  readonly sessionId: string;
  readonly protocolVersion: string;
  readonly init: MemberInit;
}

export interface FederatedState {
  readonly v: 1;
  /** The revision the client session speaks. */
  readonly version: string;
  /** The client's initialize params (a member re-initialized later gets them again). */
  readonly initParams: JsonObject;
  /** Members with a live upstream session; a member absent here is initialized anew. */
  readonly members: Readonly<Record<string, StoredMember>>;
}

/** What one federated session writes. */
export interface SessionPersistence {
  save(state: FederatedState): void;
  /** Writes the state again when the row is past half its TTL (called on activity). */
  touch(state: () => FederatedState): void;
  remove(): void;
}

/** How long a stored session lives without being written again. */
export const FEDERATED_SESSION_TTL_MS = 24 * 3_600_000;

export class FederatedSessionStore {
  constructor(
    private readonly store: Store,
    private readonly api: string,
    /** Seals each row (see above); its key is derived from the session key. */
    private readonly box: SealBox,
    private readonly log: Logger,
    private readonly ttlMs = FEDERATED_SESSION_TTL_MS,
  ) {}

  for(id: string): SessionPersistence {
    let savedAt = 0;
    const write = (state: FederatedState) => {
      savedAt = Date.now();
      const sealed = { v: 2, sealed: this.box.seal(JSON.stringify(state), this.context(id)) };
      this.store
        .putFederatedSession({ id, api: this.api, state: sealed, expiresAt: savedAt + this.ttlMs })
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not store the federated session: another node cannot continue it'));
    };
    return {
      save: write,
      touch: (state) => {
        if (savedAt !== 0 && Date.now() - savedAt > this.ttlMs / 2) write(state());
      },
      remove: () => {
        this.store.deleteFederatedSession(id).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not delete the stored federated session'));
      },
    };
  }

  /** The stored state of a session of this API, or undefined (unknown, expired, another API's, altered, malformed). */
  async load(id: string): Promise<FederatedState | undefined> {
    const record = await this.store.getFederatedSession(id);
    if (!record || record.api !== this.api) return undefined;
    // Rows of version 1 were kept in clear: they are not trusted (a fresh session is needed).
    if (record.state.v !== 2 || typeof record.state.sealed !== 'string') return undefined;
    const text = this.box.open(record.state.sealed, this.context(id));
    if (text === undefined) {
      this.log.warn({ session: id }, 'a stored federated session does not open with this session key (another key, or altered): not continued');
      return undefined;
    }
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isObject(state) || state.v !== 1 || typeof state.version !== 'string' || !isObject(state.initParams) || !isObject(state.members)) return undefined;
    for (const member of Object.values(state.members)) {
      if (!isObject(member) || typeof member.sessionId !== 'string' || typeof member.protocolVersion !== 'string' || !isObject(member.init)) return undefined;
    }
    return state as unknown as FederatedState;
  }

  private context(id: string): string {
    return `${this.api}\0${id}`;
  }
}
