// Markers of the safety policies on an audit record: session taint (this result tainted the
// session, a call was refused for it, or a person let one through) and guardrail findings.
import type { SafetyMarks } from '../api.ts';

const TAINT_TEXT = { tainted: 'tainted the session', refused: 'refused: tainted session', approved: 'tainted session: approved' } as const;

export function SafetyBadges({ safety }: { safety: SafetyMarks | null | undefined }) {
  if (!safety) return null;
  const blocked = safety.guardrails.some((g) => !g.allowed);
  return (
    <span class="annotations safety-marks">
      {safety.taint && (
        <span class={`badge badge-taint badge-taint-${safety.taint}`} data-taint={safety.taint} title={safety.taintReason ?? undefined}>
          {TAINT_TEXT[safety.taint]}
        </span>
      )}
      {safety.guardrails.length > 0 && (
        <span class={`badge ${blocked ? 'badge-error' : 'badge-denied'}`} data-guardrails={safety.guardrails.map((g) => g.rule).join(' ')} title={safety.guardrails.map((g) => `${g.rule}: ${g.reason}`).join('\n')}>
          {blocked ? 'guardrail: blocked' : `guardrail: ${[...new Set(safety.guardrails.map((g) => g.rule))].join(', ')}`}
        </span>
      )}
    </span>
  );
}
