// The task ids a 2026-07-28 client sees for tasks of a 2025 server behind the bridge. The server's
// own id is only unique within the upstream session Gatehouse opened for one principal, so the
// client gets it sealed (AES-256-GCM, a key derived from the session key) together with the node
// and session that hold it, bound to the API and principal as associated data: another principal's
// (or API's) request cannot open it and is answered as for a task that does not exist.
import { deriveKey, SealBox } from '../session/seal-box.ts';

export interface TaskIdClaims {
  /** Node whose bridged session holds the task. */
  readonly node: string;
  /** Bridged session id on that node. */
  readonly s: string;
  /** The server's task id in that session. */
  readonly t: string;
}

/**
 * The `s` of a task a 2026-07-28 member of a federated API holds itself, forwarded to it as it is
 * (federation/modern-forward.ts), followed by the member's name: no bridged session holds it, so
 * any node reaches it.
 */
export const MEMBER_TASK_SESSION = 'member:';

const PREFIX = 'ght1.';
/** Longer than any id Gatehouse seals (the server's id is at most MAX_UPSTREAM_ID characters). */
const MAX_SEALED = 1024;
export const MAX_UPSTREAM_ID = 512;

export class TaskIdSealer {
  private readonly box: SealBox;

  constructor(sessionKey: Buffer) {
    // A key of its own: a task id is never taken for a request state or a session id.
    this.box = new SealBox(deriveKey(sessionKey, 'gatehouse bridged task id'), 'gatehouse-task-id-v1');
  }

  seal(api: string, sub: string, claims: TaskIdClaims): string {
    return PREFIX + this.box.seal(JSON.stringify(claims), `${api}\n${sub}`);
  }

  /** The claims, or undefined when the id is malformed, altered, or was issued to another API or principal. */
  unseal(api: string, sub: string, taskId: string): TaskIdClaims | undefined {
    if (!taskId.startsWith(PREFIX) || taskId.length > MAX_SEALED) return undefined;
    const text = this.box.open(taskId.slice(PREFIX.length), `${api}\n${sub}`);
    if (text === undefined) return undefined;
    try {
      const claims = JSON.parse(text) as TaskIdClaims;
      if (typeof claims.node !== 'string' || typeof claims.s !== 'string' || typeof claims.t !== 'string') return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}
