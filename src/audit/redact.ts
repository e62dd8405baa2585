// Redaction of recorded payloads: configured field names, fields named like secrets, and values
// that are secrets wherever they appear — in a field of any name, inside text content (JSON
// written into a tool result's text, an env file, a URL, a PEM block), or in a payload cut at
// the size cap. The rules are in secret-rules.ts; this is the engine that applies them.
// Compiled once per config; runs in the audit writer thread, never on the request path.
import { ASSIGNMENT, AUTH_SCHEME, MAY_HOLD_SECRET, normalName, PRIVATE_KEY_BLOCK, PROVIDER_TOKEN, secretName, URL_PASSWORD } from './secret-rules.ts';

export const REDACTED = '[REDACTED]';

export interface Redactor {
  /** A copy of a JSON value with secret fields and secret-looking strings replaced. */
  value(value: unknown): unknown;
  /** The same for text that is not (or no longer, once cut) valid JSON. */
  text(text: string): string;
}

const MAX_DEPTH = 64;
/** Distinct field names remembered per redactor (names come from payloads: bounded). */
const NAME_CACHE = 10_000;
/** Shorter text cannot hold a secret worth the scan (the shortest, `pw=x`, has 4 characters). */
const SHORTEST = 4;

interface AssignmentGroups {
  name1?: string;
  name2?: string;
  name3?: string;
  name4?: string;
  value: string;
}

const redactUrlPassword = (_match: string, user: string): string => `://${user}${REDACTED}`;
// Keep the scheme so that a reader can tell what was there.
const redactCredential = (_match: string, scheme: string): string => `${scheme} ${REDACTED}`;

/** A secret field's value, written out: the quotes stay (so JSON stays JSON), the content goes. */
function redactedValue(value: string): string {
  for (const quote of ['\\"', '"', "'"]) {
    if (!value.startsWith(quote)) continue;
    const closed = value.length >= 2 * quote.length && value.endsWith(quote);
    const inner = value.slice(quote.length, closed ? -quote.length : undefined);
    return inner === '' ? value : `${quote}${REDACTED}${closed ? quote : ''}`;
  }
  return value === 'null' || value === 'true' || value === 'false' ? value : REDACTED;
}

/** A field value that can hold a secret: not null, an empty string or a flag. */
function holdsSecret(value: unknown): boolean {
  return value !== null && value !== '' && typeof value !== 'boolean';
}

export function compileRedactor(fields: readonly string[]): Redactor {
  const configured = new Set(fields.map(normalName));
  const names = new Map<string, boolean>();
  const isSecretName = (name: string): boolean => {
    let hit = names.get(name);
    if (hit === undefined) {
      hit = configured.has(normalName(name)) || secretName(name);
      if (names.size < NAME_CACHE) names.set(name, hit);
    }
    return hit;
  };

  const assignment = (match: string, ...rest: unknown[]): string => {
    const g = rest[rest.length - 1] as AssignmentGroups;
    if (!isSecretName((g.name1 ?? g.name2 ?? g.name3 ?? g.name4)!)) return match;
    return match.slice(0, match.length - g.value.length) + redactedValue(g.value);
  };

  // One pass per kind of secret: each regex starts on something quick to find (a separator,
  // "://", "-----BEGIN", a word start), which costs less than one regex of all of them tried at
  // every position. Names first: `Authorization: Bearer …` goes whole.
  const scrub = (text: string): string => {
    if (text.length < SHORTEST || !MAY_HOLD_SECRET.test(text)) return text;
    return text
      .replace(ASSIGNMENT, assignment)
      .replace(PRIVATE_KEY_BLOCK, REDACTED)
      .replace(URL_PASSWORD, redactUrlPassword)
      .replace(AUTH_SCHEME, redactCredential)
      .replace(PROVIDER_TOKEN, REDACTED);
  };

  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return scrub(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH) return REDACTED;
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[key] = isSecretName(key) && holdsSecret(item) ? REDACTED : walk(item, depth + 1);
    }
    return out;
  };

  return { value: (value) => walk(value, 0), text: scrub };
}
