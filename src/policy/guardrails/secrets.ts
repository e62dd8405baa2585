// Secrets in result text, found with the rules the audit log's redaction uses
// (src/audit/secret-rules.ts): providers' keys and tokens by their issuer's prefix, PEM private
// keys, passwords in URLs, HTTP credentials written out, and values assigned to names that hold
// secrets (`password=…`, `"apiKey": "…"`). One rule set serves both, so a key the audit log
// hides is a key a guardrail finds. Here each provider's pattern is a named group, so a finding
// says which kind of key it is.
import { ASSIGNMENT, AUTH_SCHEME, MAY_HOLD_SECRET, PRIVATE_KEY_BLOCK, PROVIDER_TOKENS, secretName, URL_PASSWORD } from '../../audit/secret-rules.ts';
import type { Finding } from './findings.ts';

// One regex, one `\b`, an alternative per provider (see secret-rules.ts on why it is one regex).
const PROVIDERS = new RegExp(String.raw`\b(?:${PROVIDER_TOKENS.map(([, , pattern], i) => `(?<p${i}>${pattern})`).join('|')})`, 'g');

interface AssignmentGroups {
  name1?: string;
  name2?: string;
  name3?: string;
  name4?: string;
  value: string;
}

/**
 * The secrets in a text, possibly overlapping (replaceFindings keeps the first). A string that is
 * the value of a member named like a secret (`"apiKey": "…"` in structuredContent) is one whole,
 * as the audit redactor treats it.
 */
export function findSecrets(text: string, field?: string): Finding[] {
  if (field !== undefined && text !== '' && secretName(field)) return [{ detector: 'secret-value', class: 'secrets', start: 0, end: text.length }];
  if (text.length < 4 || !MAY_HOLD_SECRET.test(text)) return [];
  const found: Finding[] = [];
  const add = (detector: string, start: number, end: number): void => void found.push({ detector, class: 'secrets', start, end });
  for (const match of text.matchAll(PROVIDERS)) {
    const groups = match.groups!;
    const i = PROVIDER_TOKENS.findIndex((_, n) => groups[`p${n}`] !== undefined);
    add(PROVIDER_TOKENS[i]?.[1] ?? 'secret', match.index, match.index + match[0].length);
  }
  for (const match of text.matchAll(PRIVATE_KEY_BLOCK)) add('private-key', match.index, match.index + match[0].length);
  for (const match of text.matchAll(URL_PASSWORD)) {
    const password = match.groups!.password!;
    const end = match.index + match[0].length;
    add('url-password', end - password.length, end);
  }
  for (const match of text.matchAll(AUTH_SCHEME)) {
    const end = match.index + match[0].length;
    add('http-credential', match.index + match.groups!.scheme!.length + 1, end);
  }
  for (const match of text.matchAll(ASSIGNMENT)) {
    const g = match.groups as unknown as AssignmentGroups;
    if (!secretName((g.name1 ?? g.name2 ?? g.name3 ?? g.name4)!)) continue;
    const value = unquoted(g.value);
    if (value.inner === '' || value.inner === 'null' || value.inner === 'true' || value.inner === 'false') continue;
    const end = match.index + match[0].length - value.after;
    add('secret-value', end - value.inner.length, end);
  }
  return found;
}

/** A value without its quotes: what to replace, and how many quote characters follow it. */
function unquoted(value: string): { inner: string; after: number } {
  for (const quote of ['\\"', '"', "'"]) {
    if (!value.startsWith(quote)) continue;
    const closed = value.length >= 2 * quote.length && value.endsWith(quote);
    return { inner: value.slice(quote.length, closed ? -quote.length : undefined), after: closed ? quote.length : 0 };
  }
  return { inner: value, after: 0 };
}
