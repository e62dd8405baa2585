// The task ids a client of a federated API sees. A server's own task id is unique only among that
// server's tasks (two servers may both hand out `task-1`), so the client gets it sealed together
// with the server's name (AES-256-GCM, a key derived from the session key), bound to the API and
// the client session as associated data: an id from another session (another agent's) does not
// open, and is answered as a task that does not exist.
//
// The seal is deterministic (its IV is an HMAC of what it seals): the same task has the same id
// in the tools/call answer, tasks/list, status notifications and related-task tags, on any node,
// without a table to keep.
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { deriveKey } from '../../session/seal-box.ts';

const PREFIX = 'ghf1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Longer than any id sealed here (server names are short; a server's id is at most MAX_SERVER_TASK_ID). */
const MAX_SEALED = 2048;
/** A server's id is at most 512 characters; a 2026-07-28 member's comes with its channel's kind prefix (modern-member-tasks.ts). */
export const MAX_SERVER_TASK_ID = 600;

export interface FederatedTask {
  /** The member server that holds the task. */
  readonly server: string;
  /** The server's own task id. */
  readonly taskId: string;
}

export class FederatedTaskIds {
  private readonly key: Buffer;
  private readonly ivKey: Buffer;

  constructor(sessionKey: Buffer) {
    // Keys of their own: a federated task id never opens as another sealed value.
    this.key = deriveKey(sessionKey, 'gatehouse federated task id');
    this.ivKey = deriveKey(sessionKey, 'gatehouse federated task id iv');
  }

  /** The client's id for a server's task; `binding` names the API and client session. */
  seal(binding: string, task: FederatedTask): string {
    const text = Buffer.from(JSON.stringify([task.server, task.taskId]), 'utf8');
    const aad = Buffer.from(`gatehouse-federated-task-v1\0${binding}`, 'utf8');
    const iv = createHmac('sha256', this.ivKey).update(aad).update('\0').update(text).digest().subarray(0, IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(text), cipher.final()]);
    return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The server and its id, or undefined when the id is malformed, altered, or another session's. */
  open(binding: string, id: unknown): FederatedTask | undefined {
    if (typeof id !== 'string' || !id.startsWith(PREFIX) || id.length > MAX_SEALED) return undefined;
    const raw = Buffer.from(id.slice(PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`gatehouse-federated-task-v1\0${binding}`, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') return undefined;
      return { server: parsed[0], taskId: parsed[1] };
    } catch {
      return undefined;
    }
  }
}
