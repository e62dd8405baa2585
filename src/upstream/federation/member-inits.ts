// What each server of a federated API answered to its last initialize, shared by the API's
// client sessions. A new client session whose servers are all known here is answered from it
// and opens each server's upstream session only when it first needs that server (a call, a
// list, a read): a client that uses one of five servers costs one upstream session, not five.
// Known for a few minutes only, like a member's era (member-era.ts): a server whose capabilities
// change is seen by sessions that start after that.
import type { MemberInit } from './member.ts';

const KNOWN_FOR_MS = 5 * 60_000;

export class MemberInits {
  private readonly known = new Map<string, { init: MemberInit; at: number }>();

  constructor(private readonly knownForMs = KNOWN_FOR_MS) {}

  /** The server's last initialize answer, while it is recent. */
  get(server: string): MemberInit | undefined {
    const entry = this.known.get(server);
    if (!entry) return undefined;
    if (Date.now() - entry.at > this.knownForMs) {
      this.known.delete(server);
      return undefined;
    }
    return entry.init;
  }

  set(server: string, init: MemberInit): void {
    this.known.set(server, { init, at: Date.now() });
  }

  /** A server that could not be started: the next session asks it again at initialize. */
  forget(server: string): void {
    this.known.delete(server);
  }
}
