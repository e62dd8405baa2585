// Gets an SSE response's head to the client promptly. A POST's stream usually carries its first
// event right behind the head: the head then rides in the same write as that event (Node sends a
// stored head with the first body bytes). When no event has come within 2 to 4 ms (a slow tool,
// for example), the head goes alone, so a client is never left waiting for it. A standalone GET
// stream may stay silent for long: its head goes at once.
//
// Measured on server-everything's echo tool, about half the answers' first event arrives in a
// later read than the head: sending every head at once would cost those an extra write. The
// short wait keeps them in one write and delays only the head of answers slower than the wait.
// One timer serves every waiting head, rather than one timer per request.
import type { ServerResponse } from 'node:http';

const HEAD_FLUSH_PERIOD_MS = 2;

/**
 * A head waiting for the timer, with how many bytes its socket had taken when the head was
 * stored: more means the head went out with the first event. The exchange lets go of it when it
 * ends (`res` cleared), so the queue does not keep finished responses, and all they reference,
 * alive until the timer fires.
 */
export interface PendingHead {
  res: ServerResponse | undefined;
  readonly written: number;
}

/** Heads queued since the timer last fired, and those queued in the period before (due now). */
let queued: PendingHead[] = [];
let due: PendingHead[] = [];
let timer: NodeJS.Timeout | undefined;

/** Sends the head stored by writeHead now (a GET's), or soon unless an event takes it along. */
export function flushHeadSoon(res: ServerResponse, wait: boolean): PendingHead | undefined {
  const socket = res.socket;
  if (!wait || !socket) {
    res.flushHeaders();
    return undefined;
  }
  const head: PendingHead = { res, written: socket.bytesWritten };
  queued.push(head);
  timer ??= setTimeout(flushDue, HEAD_FLUSH_PERIOD_MS).unref();
  return head;
}

function flushDue(): void {
  for (const head of due) {
    const res = head.res;
    // `headersSent` is already true once writeHead has stored the head: what tells whether it
    // has gone is whether anything was written to the socket since.
    if (res && !res.destroyed && res.socket && res.socket.bytesWritten === head.written) res.flushHeaders();
  }
  due = queued;
  queued = [];
  timer = due.length > 0 ? setTimeout(flushDue, HEAD_FLUSH_PERIOD_MS).unref() : undefined;
}
