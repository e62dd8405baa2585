// Gets an SSE response's head to the client. A standalone GET stream may stay silent for long,
// so its head goes at once. A POST's stream usually carries its first event right behind the
// head: writing the head separately would cost a syscall per request, so it rides with that
// event and goes alone only if none came within 20 to 40 ms (a slow tool, for example).
// One timer serves every waiting head, rather than one timer per request.
import type { ServerResponse } from 'node:http';

const HEAD_FLUSH_PERIOD_MS = 20;

/**
 * A head waiting for the timer. The exchange lets go of it when it ends (`res` cleared), so the
 * queue does not keep finished responses, and all they reference, alive until the timer fires.
 */
export interface PendingHead {
  res: ServerResponse | undefined;
}

/** Heads queued since the timer last fired, and those queued in the period before (due now). */
let queued: PendingHead[] = [];
let due: PendingHead[] = [];
let timer: NodeJS.Timeout | undefined;

export function flushHeadersSoon(res: ServerResponse, post: boolean): PendingHead | undefined {
  if (!post) {
    res.flushHeaders();
    return undefined;
  }
  const head: PendingHead = { res };
  queued.push(head);
  timer ??= setTimeout(flushDue, HEAD_FLUSH_PERIOD_MS).unref();
  return head;
}

function flushDue(): void {
  for (const { res } of due) if (res && !res.headersSent && !res.destroyed) res.flushHeaders();
  due = queued;
  queued = [];
  timer = due.length > 0 ? setTimeout(flushDue, HEAD_FLUSH_PERIOD_MS).unref() : undefined;
}
