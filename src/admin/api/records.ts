// Audit records as the dashboard gets them: list rows without payloads (a page of records stays
// small), one record in full with its payloads and decision trace parsed when they are JSON.
import type { AuditEvent } from '../../audit/event.ts';
import { safetyOf, type SafetyMarks } from './safety.ts';

export type { SafetyMarks };

/** `safety`: guardrail findings and session taint, when a safety policy left any (safety.ts). */
export type RecordRow = Omit<AuditEvent, 'request' | 'response' | 'trace' | 'raw'> & { payloads: boolean; safety: SafetyMarks | null };

export interface RecordDetail extends RecordRow {
  /** Parsed JSON when the stored text is JSON (it may have been cut at the size cap: then text). */
  request: unknown;
  response: unknown;
  trace: unknown;
}

export function rowOf(event: AuditEvent): RecordRow {
  const { request, response, trace, raw: _raw, ...rest } = event;
  return { ...rest, payloads: request !== undefined || response !== undefined, safety: safetyOf(trace) };
}

export function detailOf(event: AuditEvent): RecordDetail {
  return { ...rowOf(event), request: parsed(event.request), response: parsed(event.response), trace: parsed(event.trace) };
}

function parsed(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
