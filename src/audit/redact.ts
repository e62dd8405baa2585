// Redaction of recorded payloads: configured field names, fields named like secrets, and values
// that look like secrets (bearer tokens, API keys, JWTs). Compiled once per config; only runs
// when an API records payloads.

export const REDACTED = '[REDACTED]';

export interface Redactor {
  /** A copy of a JSON value with secret fields and secret-looking strings replaced. */
  value(value: unknown): unknown;
  /** The same for text that is not (or no longer, once cut) valid JSON. */
  text(text: string): string;
}

/** Normalised names (lowercase, no `-_. `) that always hold secrets. */
const SECRET_NAME = /password|passwd|passphrase|secret|apikey|authorization|credential|privatekey|cookie|token$|^auth$|^pwd$/;
/** Named like a secret but harmless and useful to keep. */
const NOT_SECRET = new Set(['progresstoken']);

// Values that are secrets whatever field holds them. Each alternative is anchored on a prefix
// that real credentials have, so ordinary text is left alone.
const SECRET_VALUE = new RegExp(
  [
    String.raw`\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}`,
    String.raw`\bgh_[A-Za-z0-9]{20,}`, // Gatehouse API keys
    String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`,
    String.raw`\bsk-[A-Za-z0-9_-]{16,}`,
    String.raw`\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`, // JWT (header and payload start with {")
    String.raw`\bAKIA[0-9A-Z]{16}\b`,
    String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`,
    String.raw`\b(?:password|passwd|pwd|secret|token|api[_-]?key|authorization)\s*[=:]\s*(?:(?:Bearer|Basic)\s+)?[^\s&"',;]+`,
  ].join('|'),
  'gi',
);

/** A JSON string member in raw text: "name": "value". */
const JSON_MEMBER = /"((?:[^"\\]|\\.){1,128})"(\s*:\s*)"(?:[^"\\]|\\.)*"/g;

const MAX_DEPTH = 64;

function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_. ]/g, '');
}

export function compileRedactor(fields: readonly string[]): Redactor {
  const configured = new Set(fields.map(normalise));
  const cache = new Map<string, boolean>();
  const secretName = (name: string): boolean => {
    let hit = cache.get(name);
    if (hit === undefined) {
      const n = normalise(name);
      hit = configured.has(n) || (SECRET_NAME.test(n) && !NOT_SECRET.has(n));
      if (cache.size < 10_000) cache.set(name, hit);
    }
    return hit;
  };
  const scrub = (text: string): string => text.replace(SECRET_VALUE, (match) => {
    // Keep the scheme or field name so a reader can tell what was there.
    const sep = /^(?:Bearer|Basic)\s+/i.exec(match) ?? /^[A-Za-z_-]+\s*[=:]\s*/.exec(match);
    return sep && !/^(?:gh|sk|eyJ|AKIA|xox)/.test(match) ? sep[0] + REDACTED : REDACTED;
  });
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return scrub(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH) return REDACTED;
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[key] = secretName(key) && item !== null && item !== '' ? REDACTED : walk(item, depth + 1);
    }
    return out;
  };
  return {
    value: (value) => walk(value, 0),
    text: (text) =>
      scrub(text.replace(JSON_MEMBER, (member, name: string, colon: string) => (secretName(name) ? `"${name}"${colon}"${REDACTED}"` : member))),
  };
}
