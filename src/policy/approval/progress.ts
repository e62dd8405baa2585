// Progress notifications for a call held for approval, to a client that sent a progress token:
// one at once (it names the approval), then one per interval until the call is decided, so the
// client sees why it waits and (SDK `resetTimeoutOnProgress`) keeps waiting.
import type { ClientStream } from '../policy.ts';
import type { PendingApproval } from './book.ts';

export function progressToken(params: Record<string, unknown>): string | number | undefined {
  const meta = params._meta;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
  const token = (meta as Record<string, unknown>).progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/** Starts the notifications; the function returned stops them. */
export function reportWaiting(stream: ClientStream, token: string | number, approval: PendingApproval, intervalMs: number, who: string): () => void {
  const total = Math.round((approval.expiresAt - approval.requestedAt) / 1000);
  let last = -1;
  const tick = (): void => {
    const now = Date.now();
    // Progress must grow with each notification: elapsed seconds, to the millisecond.
    last = Math.max(last + 0.001, (now - approval.requestedAt) / 1000);
    const left = Math.max(0, Math.ceil((approval.expiresAt - now) / 1000));
    const sent = stream.send({
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: token, progress: last, total, message: `waiting for approval by ${who} (id ${approval.id}), ${left} s left` },
    });
    if (!sent) clearInterval(timer);
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return () => clearInterval(timer);
}
