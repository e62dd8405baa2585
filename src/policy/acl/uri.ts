// Resource URIs as the ACL accepts them: one spelling per resource. Rules are matched against the
// URI as sent, so every other spelling a server could resolve to the same resource (`FILE:` for
// `file:`, `file:/x` for `file:///x`, a leading space, `%70` for `p`, dot segments, `\`) would slip
// past a deny rule. A URI is accepted only in canonical form: the WHATWG URL standard's
// serialization (scheme and special hosts lower-cased, `file:` with an empty host, dot segments
// resolved, …), the host of other schemes lower-cased too (RFC 3986 §6.2.2.1), percent-encoding in
// upper case and only where needed (RFC 3986 §6.2.2). What stays ambiguous even in that form —
// encoded separators or control characters, double encoding, dot or empty path segments left in
// place, empty `?`/`#` — is refused outright.

const MAX_URI = 4096;

export type UriCheck =
  | { readonly ok: true }
  /** `canonical`: the spelling to send instead, when there is one. */
  | { readonly ok: false; readonly reason: string; readonly canonical: string | undefined };

const OK: UriCheck = Object.freeze({ ok: true });

/** Anything but printable ASCII: whitespace, control characters, non-ASCII (sent percent-encoded). */
const NOT_PRINTABLE = /[^\x21-\x7e]/;
/** `%` not followed by two upper-case hex digits. */
const BAD_PERCENT = /%(?![0-9A-F]{2})/;
/** Percent-encoded unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~"): to be sent plain. */
const ENCODED_UNRESERVED = /%(?:3[0-9]|4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|2D|2E|5F|7E)/;
/** Percent-encoded "/", "\", control characters, and "%" followed by hex (double encoding). */
const ENCODED_AMBIGUOUS = /%(?:2F|5C|[01][0-9A-F]|7F|25[0-9A-Fa-f]{2})/;

/** Whether `uri` is a resource URI in canonical form; if not, why, and the spelling to use. */
export function checkUri(uri: string): UriCheck {
  const problem = problemOf(uri);
  if (problem === undefined) return OK;
  return { ok: false, reason: problem.reason, canonical: problem.fixable ? suggestion(uri) : undefined };
}

/**
 * The same for an RFC 6570 URI template (`resources/templates/list`, completion references): its
 * expressions stand in for text the client fills in, and the rest must be canonical.
 */
export function checkUriTemplate(template: string): UriCheck {
  if (!template.includes('{')) return checkUri(template);
  const expressions: string[] = [];
  const literal = template.replace(/\{[^{}]*\}/g, (expression) => `${PLACEHOLDER}${expressions.push(expression) - 1}${PLACEHOLDER}`);
  const problem = problemOf(literal);
  if (problem === undefined) return OK;
  const fixed = problem.fixable ? suggestion(literal) : undefined;
  const canonical = fixed?.replace(PLACEHOLDERS, (_, index: string) => expressions[Number(index)] ?? '');
  return { ok: false, reason: problem.reason, canonical };
}

/** Stands in for a template expression: unreserved characters that no normalization changes. */
const PLACEHOLDER = 'zx9gh';
const PLACEHOLDERS = new RegExp(`${PLACEHOLDER}(\\d+)${PLACEHOLDER}`, 'g');

interface Problem {
  readonly reason: string;
  /** Whether normalizing the URI gives a spelling that means the same. */
  readonly fixable: boolean;
}

function problemOf(uri: string): Problem | undefined {
  if (uri.length > MAX_URI) return { reason: `longer than ${MAX_URI} characters`, fixable: false };
  if (NOT_PRINTABLE.test(uri)) {
    // The URL standard drops tabs and newlines inside a URL: what was meant is unknowable.
    const fixable = !/[\t\n\r]/.test(uri.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ''));
    return { reason: 'contains whitespace, control or non-ASCII characters (send non-ASCII percent-encoded)', fixable };
  }
  if (uri.includes('\\')) return { reason: 'contains a backslash', fixable: false };
  const url = URL.parse(uri);
  if (url === null) return { reason: 'is not an absolute URI (scheme ":" …)', fixable: false };
  if (canonicalHref(url) !== uri) return { reason: 'is not in canonical form', fixable: true };
  if (BAD_PERCENT.test(uri)) return { reason: 'has percent-encoding that is not "%" and two upper-case hex digits', fixable: /%[0-9a-fA-F]{2}/.test(uri) };
  if (ENCODED_AMBIGUOUS.test(uri)) return { reason: 'percent-encodes "/", "\\", "%" or a control character', fixable: false };
  if (ENCODED_UNRESERVED.test(uri)) return { reason: 'percent-encodes a character that needs no encoding', fixable: true };
  const path = url.pathname;
  // Hierarchical paths have lost their dot segments in the WHATWG serialization; opaque ones
  // (`demo:../x`) keep them.
  if (/(?:^|\/)\.\.?(?:\/|$)/.test(path)) return { reason: 'has a "." or ".." path segment', fixable: false };
  if (path.includes('//')) return { reason: 'has an empty path segment ("//")', fixable: false };
  const hash = uri.indexOf('#');
  const beforeHash = hash === -1 ? uri : uri.slice(0, hash);
  if (beforeHash.endsWith('?') || uri.endsWith('#')) return { reason: 'ends an empty query ("?") or fragment ("#")', fixable: false };
  return undefined;
}

/** The WHATWG serialization, with the host of non-special schemes lower-cased as well. */
function canonicalHref(url: URL): string {
  if (/[A-Z]/.test(url.hostname)) url.hostname = url.hostname.toLowerCase();
  return url.href;
}

/** The canonical spelling of a URI that has one (normalized until nothing changes), else undefined. */
function suggestion(uri: string): string | undefined {
  let current = uri;
  for (let i = 0; i < 4; i++) {
    const url = URL.parse(current);
    if (url === null) return undefined;
    const next = canonicalHref(url)
      .replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase())
      .replace(new RegExp(ENCODED_UNRESERVED.source, 'g'), (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
    if (next === current) return problemOf(next) === undefined ? next : undefined;
    current = next;
  }
  return undefined;
}
