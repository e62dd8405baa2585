// What the safety policies left in an audit record, for the dashboard's markers: the guardrails'
// findings (kinds and counts, never the matched text: guardrails/findings.ts) and the session
// taint (this call's result tainted the session, a call was refused for it, or a person let it
// through). Read from the record's decision trace, where those policies write.
export type TaintMark = 'tainted' | 'refused' | 'approved';

export interface GuardrailFinding {
  readonly method: string;
  readonly name: string | null;
  /** secrets, personalData, injection, limits or outputSchema. */
  readonly rule: string;
  /** false: the result was withheld. */
  readonly allowed: boolean;
  readonly reason: string;
}

export interface SafetyMarks {
  readonly taint: TaintMark | null;
  readonly taintReason: string | null;
  readonly guardrails: readonly GuardrailFinding[];
}

interface TraceEntry {
  policy?: unknown;
  method?: unknown;
  name?: unknown;
  allowed?: unknown;
  rule?: unknown;
  reason?: unknown;
}

/**
 * The record's marks, or null when no safety policy left any (most records). From the trace only,
 * not the error code: an upstream's own error may carry the code of a taint refusal (-32043).
 */
export function safetyOf(trace: string | undefined): SafetyMarks | null {
  // Cheap test first: a page of records is read on every poll of the live tail.
  const entries = trace !== undefined && (trace.includes('"taint"') || trace.includes('"guardrails"')) ? parsedTrace(trace) : [];
  let taint: TaintMark | null = null;
  let taintReason: string | null = null;
  const guardrails: GuardrailFinding[] = [];
  for (const entry of entries) {
    const reason = typeof entry.reason === 'string' ? entry.reason : '';
    if (entry.policy === 'taint') {
      // The policy's rule names it; a refusal without one is still a refusal.
      taint = entry.rule === 'approved' || entry.rule === 'tainted' ? entry.rule : entry.allowed === false ? 'refused' : 'tainted';
      taintReason = reason || null;
    } else if (entry.policy === 'guardrails') {
      guardrails.push({ method: String(entry.method ?? ''), name: typeof entry.name === 'string' ? entry.name : null, rule: String(entry.rule ?? ''), allowed: entry.allowed !== false, reason });
    }
  }
  return taint === null && guardrails.length === 0 ? null : { taint, taintReason, guardrails };
}

function parsedTrace(trace: string): TraceEntry[] {
  try {
    const value = JSON.parse(trace) as unknown;
    return Array.isArray(value) ? value.filter((e): e is TraceEntry => typeof e === 'object' && e !== null) : [];
  } catch {
    return [];
  }
}
