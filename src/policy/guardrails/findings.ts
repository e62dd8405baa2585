// What a content detector finds in a text: the kind of thing (an id such as `aws-access-key`,
// `email` or `ignore-instructions`), its class, and where it is. Never the matched text itself:
// findings go into the audit trace, which must not carry the secret it reports.

export type DetectorClass = 'secrets' | 'personalData' | 'injection';

export interface Finding {
  readonly detector: string;
  readonly class: DetectorClass;
  readonly start: number;
  readonly end: number;
  /** What replaces the span when the action rewrites it (default `[REDACTED:<detector>]`). */
  readonly replacement?: string;
}

/** The text with each finding's span replaced; overlapping findings: the earliest-starting wins. */
export function replaceFindings(text: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return text;
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const finding of sorted) {
    if (finding.start < at) continue;
    out += text.slice(at, finding.start) + (finding.replacement ?? `[REDACTED:${finding.detector}]`);
    at = finding.end;
  }
  return out + text.slice(at);
}
