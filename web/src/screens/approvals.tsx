// Tool calls held for a person's approval (the approval policy, or the taint policy's `approve`
// action): what would run — tool, server, who asks, the exact arguments — how long it has waited
// and when it times out. Approve or Deny decides that call only, bound to the arguments shown. The
// queue is polled by the frame (app.tsx), so a new call appears without a reload and a decided or
// timed-out one leaves. A viewer sees the queue and decides nothing.
import { useEffect, useState } from 'preact/hooks';
import { mayDecide, postJson, type ApprovalView, type Meta } from '../api.ts';
import type { Loaded } from '../use-api.ts';
import { ago, dateTime } from '../format.ts';
import { Notice } from '../components/bits.tsx';

type Decision = 'approve' | 'deny';

/** A clock that ticks every second, for waiting times and countdowns. */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return now;
}

function remaining(until: number, now: number): string {
  const s = Math.max(0, Math.round((until - now) / 1000));
  return s < 120 ? `in ${s}s` : s < 7200 ? `in ${Math.round(s / 60)}m` : `in ${Math.round(s / 3600)}h`;
}

export function Approvals({ queue, meta }: { queue: Loaded<{ items: ApprovalView[] }>; meta: Meta | undefined }) {
  const now = useNow();
  const [outcome, setOutcome] = useState<{ kind: 'info' | 'error'; text: string } | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const items = queue.data?.items ?? [];
  const decider = mayDecide(meta);

  const decide = async (call: ApprovalView, decision: Decision) => {
    setBusy(call.id);
    setOutcome(undefined);
    try {
      // The hash of the arguments shown: a call whose arguments are not these is not decided.
      await postJson(`/api/approvals/${encodeURIComponent(call.id)}`, { decision, argumentsHash: call.argumentsHash });
      setOutcome({ kind: 'info', text: decision === 'approve' ? `Approved: ${call.tool} for ${call.agent} runs now.` : `Denied: ${call.agent} gets a refusal for ${call.tool}.` });
    } catch (error) {
      setOutcome({ kind: 'error', text: (error as Error).message });
    } finally {
      setBusy(undefined);
      queue.reload();
    }
  };

  return (
    <div class="screen" data-state={queue.loading && !queue.data ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Approvals</h1>
        <span class="toolbar-status" aria-live="polite" data-waiting={items.length}>
          {queue.data ? (items.length === 0 ? 'No call waits' : `${items.length} ${items.length === 1 ? 'call waits' : 'calls wait'}`) : ''}
        </span>
      </div>
      <p class="muted small">
        Calls held by an <code>approval</code> policy (or a <code>taint</code> policy with <code>action: approve</code>) on this node. Each waits for one decision, bound to the arguments shown, until it times out (then it is refused).
        {meta?.you?.role === 'viewer' && ' Your role (viewer) may look, not decide.'}
      </p>
      {outcome && (
        <div data-decision-status>
          <Notice kind={outcome.kind}>{outcome.text}</Notice>
        </div>
      )}
      {queue.error && <Notice kind="error">{queue.error}</Notice>}
      {queue.data && items.length === 0 && <p class="empty">Nothing waits for approval.</p>}
      <div class="approvals">
        {items.map((call) => {
          const requested = Date.parse(call.requestedAt);
          const expires = Date.parse(call.expiresAt);
          const facts: Array<[string, string | null]> = [
            ['API', call.api],
            ['Agent', call.agent],
            ['User', call.user],
            ['Session', call.session],
            ['Name on the server', call.originalName !== call.tool ? call.originalName : null],
            ['Waiting', `${ago(requested, now).replace(' ago', '')} (since ${dateTime(requested)})`],
            ['Expires', `${remaining(expires, now)} (${dateTime(expires)})`],
            ['Tenant', call.tenant],
          ];
          return (
            <article key={call.id} class="approval" aria-labelledby={`approval-${call.id}`} data-approval={call.id} data-tool={call.tool}>
              <h2 id={`approval-${call.id}`}>
                <code>{call.tool}</code> <span class="muted">on {call.server}</span>
              </h2>
              {call.reason && <p class="small">Why it waits: {call.reason}.</p>}
              <dl class="facts">
                {facts
                  .filter(([, value]) => value !== null && value !== '')
                  .map(([label, value]) => (
                    <div key={label} class="fact" data-fact={label}>
                      <dt>{label}</dt>
                      <dd>{value}</dd>
                    </div>
                  ))}
              </dl>
              <pre class="payload" tabIndex={0} aria-label={`Arguments of ${call.tool}`} data-arguments>
                {JSON.stringify(call.arguments, null, 2)}
              </pre>
              {decider && (
                <div class="form-actions">
                  <button type="button" class="button primary" disabled={busy === call.id} onClick={() => void decide(call, 'approve')} aria-label={`Approve ${call.tool} for ${call.agent}`}>
                    Approve
                  </button>
                  <button type="button" class="button danger" disabled={busy === call.id} onClick={() => void decide(call, 'deny')} aria-label={`Deny ${call.tool} for ${call.agent}`}>
                    Deny
                  </button>
                  <span class="hint mono" title="SHA-256 of the arguments: the decision applies to these arguments only">
                    {call.argumentsHash.slice(0, 12)}
                  </span>
                </div>
              )}
            </article>
          );
        })}
      </div>
    </div>
  );
}
