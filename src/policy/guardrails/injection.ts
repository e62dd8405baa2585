// Known prompt-injection markers in result text: phrases that tell the model to drop its
// instructions, tags that pose as system or "important" instructions, invisible Unicode tag
// characters (text the user cannot see but the model reads), runs of zero-width characters, and
// data: URLs in markdown or HTML links. A marker list finds the known and the careless; it does
// not catch paraphrases, other languages, instructions that look like ordinary text, or anything
// encoded (docs/guardrails.md says so plainly).
import type { Finding } from './findings.ts';

interface Marker {
  readonly id: string;
  readonly pattern: RegExp;
  /** What `strip` puts in its place: nothing for invisible characters, a visible marker else. */
  readonly replacement: string;
}

const REMOVED = '[REMOVED:prompt-injection]';

export const MARKERS: readonly Marker[] = [
  {
    id: 'ignore-instructions',
    pattern: /\b(?:ignore|disregard|forget|override)[ \t]+(?:all[ \t]+|any[ \t]+)?(?:of[ \t]+)?(?:the[ \t]+|your[ \t]+|my[ \t]+)?(?:previous|prior|above|earlier|preceding|former|system|original)[ \t]+(?:instructions?|prompts?|messages?|directions?|rules|guidelines|context)\b/gi,
    replacement: REMOVED,
  },
  {
    id: 'instruction-tag',
    pattern: /<\/?(?:important|system|instructions?|hidden|secret|admin|system[_-]?prompt)(?:[ \t][^<>\n]{0,200})?>|<\|(?:im_start|im_end|system|endoftext)\|>|\[\/?(?:INST|SYS)\]|<<\/?SYS>>/gi,
    replacement: REMOVED,
  },
  { id: 'unicode-tag-characters', pattern: /[\u{E0000}-\u{E007F}]+/gu, replacement: '' },
  { id: 'zero-width-run', pattern: /[\u200B-\u200D\u2060-\u2064\uFEFF\u180E]{3,}/gu, replacement: '' },
  { id: 'data-url-link', pattern: /\]\([ \t]*<?data:[^)\s]*\)?|\b(?:href|src)[ \t]*=[ \t]*["']?data:[^"'\s>]*/gi, replacement: REMOVED },
];

export function findInjection(text: string): Finding[] {
  const found: Finding[] = [];
  for (const marker of MARKERS) {
    for (const match of text.matchAll(marker.pattern)) {
      found.push({ detector: marker.id, class: 'injection', start: match.index, end: match.index + match[0].length, replacement: marker.replacement });
    }
  }
  return found;
}
