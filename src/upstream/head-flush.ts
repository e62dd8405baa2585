// Gets an SSE response's head to the client. A standalone GET stream may stay silent for long,
// so its head goes at once. A POST's stream usually carries its first event right behind the
// head: writing the head separately would cost a syscall per request, so it rides with that
// event and goes alone only if none came within 20 to 40 ms (a slow tool, for example).
// One timer serves every waiting head, rather than one timer per request.
import type { ServerResponse } from 'node:http';

const HEAD_FLUSH_PERIOD_MS = 20;

/** Heads queued since the timer last fired, and those queued in the period before (due now). */
let queued: ServerResponse[] = [];
let due: ServerResponse[] = [];
let timer: NodeJS.Timeout | undefined;

export function flushHeadersSoon(res: ServerResponse, post: boolean): void {
  if (!post) {
    res.flushHeaders();
    return;
  }
  queued.push(res);
  timer ??= setTimeout(flushDue, HEAD_FLUSH_PERIOD_MS).unref();
}

function flushDue(): void {
  for (const res of due) if (!res.headersSent && !res.destroyed) res.flushHeaders();
  // Fresh arrays rather than emptied ones: a long-lived array of finished responses would keep
  // them alive through young GCs.
  due = queued;
  queued = [];
  timer = due.length > 0 ? setTimeout(flushDue, HEAD_FLUSH_PERIOD_MS).unref() : undefined;
}
