// What a secret looks like, for the redaction of recorded payloads (redact.ts): field names that
// hold secrets, and values that are secrets wherever they appear. The value patterns follow the
// documented formats of common providers' keys and tokens (the same families as the public rule
// sets of secret scanners such as gitleaks), each anchored on the fixed prefix its issuer gives
// it, so that ordinary text, ids and hashes are left alone. Compiled once, at load.

/**
 * Field names that hold secrets, compared in a normal form: lower case, letters and digits only
 * (so `client_secret`, `clientSecret`, `Client-Secret` and `CLIENT_SECRET` are one name).
 */
const SECRET_WITHIN = /password|passwd|passphrase|secret|apikey|privatekey/;
const SECRET_ENDING = /(?:token|authorization|credentials?|cookie|passcode|accesskey|accountkey|signingkey|encryptionkey|masterkey|sessionkey)$/;
/** The last word of a name (camelCase, snake_case, kebab-case, dotted) that makes it a secret: `dbPass`, `DB_PWD`, `basic-auth`. */
const SECRET_LAST_WORD: ReadonlySet<string> = new Set(['pass', 'pwd', 'pw', 'auth']);
/** Named like a secret, but not one, and useful to keep (MCP's progressToken, paging cursors). */
const NOT_SECRET: ReadonlySet<string> = new Set(['progresstoken', 'nexttoken', 'pagetoken', 'nextpagetoken', 'continuationtoken', 'synctoken']);

export function normalName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function lastWord(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/).filter((w) => w !== '');
  return (words[words.length - 1] ?? '').toLowerCase();
}

/** Whether a field of this name holds a secret (before any configured names are added). */
export function secretName(name: string): boolean {
  const n = normalName(name);
  if (n === '' || NOT_SECRET.has(n)) return false;
  return SECRET_WITHIN.test(n) || SECRET_ENDING.test(n) || SECRET_LAST_WORD.has(lastWord(name));
}

/**
 * Keys and tokens recognised by their issuer's prefix and shape, each starting a word. Each is
 * one alternative of a regex that says `\b` once for all (once per alternative costs ten times
 * as much: every alternative is then tried at every position). The id names the kind of key in
 * a content guardrail's marker (`[REDACTED:aws-access-key]`, src/policy/guardrails/).
 */
export const PROVIDER_TOKENS: ReadonlyArray<readonly [provider: string, id: string, pattern: string]> = [
  ['gatehouse', 'gatehouse-key', String.raw`gh_[A-Za-z0-9]{20,}`],
  ['github', 'github-token', String.raw`(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})`],
  ['gitlab', 'gitlab-token', String.raw`gl(?:pat|dt|rt|ptt|cbt|soat|ffct|imt|agent|oas|wt)-[A-Za-z0-9_-]{20,}`],
  ['openai, anthropic and other sk- keys', 'sk-api-key', String.raw`sk-[A-Za-z0-9_-]{16,}`],
  ['stripe and alike (sk_live_, rk_test_, …)', 'stripe-key', String.raw`(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,}`],
  ['webhook signing secrets', 'webhook-secret', String.raw`whsec_[A-Za-z0-9+/=_-]{16,}`],
  ['aws access key id', 'aws-access-key', String.raw`(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b`],
  ['google api key', 'google-api-key', String.raw`AIza[0-9A-Za-z_-]{35}`],
  ['google oauth', 'google-oauth-token', String.raw`(?:ya29\.[0-9A-Za-z_-]{20,}|GOCSPX-[A-Za-z0-9_-]{20,})`],
  ['slack', 'slack-token', String.raw`(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})`],
  ['slack webhook', 'slack-webhook', String.raw`hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}`],
  ['npm', 'npm-token', String.raw`npm_[A-Za-z0-9]{36}\b`],
  ['pypi', 'pypi-token', String.raw`pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}`],
  ['sendgrid', 'sendgrid-key', String.raw`SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}`],
  ['hugging face', 'huggingface-token', String.raw`hf_[A-Za-z]{30,}\b`],
  ['shopify', 'shopify-token', String.raw`shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b`],
  ['digitalocean', 'digitalocean-token', String.raw`do[por]_v1_[a-f0-9]{64}\b`],
  ['databricks', 'databricks-token', String.raw`dapi[a-f0-9]{32}\b`],
  ['hashicorp vault', 'vault-token', String.raw`hv[sbr]\.[A-Za-z0-9_-]{24,}`],
  ['linear', 'linear-key', String.raw`lin_api_[A-Za-z0-9]{40}\b`],
  ['square', 'square-token', String.raw`sq0(?:atp|csp)-[A-Za-z0-9_-]{22,}`],
  ['twilio api key', 'twilio-key', String.raw`SK[0-9a-f]{32}\b`],
  ['mailgun', 'mailgun-key', String.raw`key-[0-9a-f]{32}\b`],
  ['postman', 'postman-key', String.raw`PMAK-[a-f0-9]{24}-[a-f0-9]{34}\b`],
  ['doppler', 'doppler-token', String.raw`dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}`],
  ['atlassian', 'atlassian-token', String.raw`ATATT3[A-Za-z0-9_=-]{100,}`],
  ['age', 'age-secret-key', String.raw`AGE-SECRET-KEY-1[0-9A-Z]{58}\b`],
  ['jwt', 'jwt', String.raw`eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`],
];

/** A PEM private key block (RSA, EC, OpenSSH, PKCS#8, encrypted, PGP), or its start when the text was cut. */
export const PRIVATE_KEY_BLOCK = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,-]*)/g;

/**
 * The password of a URL, scheme://user:password@host (the user may be empty, as in
 * redis://:pw@host). The match starts at "://", which is quick to find; the scheme is checked
 * behind it. Named: what is kept before the password, and the password.
 */
export const URL_PASSWORD = /:\/\/(?<=\b[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/)(?<user>[^\s/?#@:"'<>\\]*:)(?<password>[^\s/?#@"'<>\\]+)(?=@)/g;

/** An HTTP credential written out: the scheme is kept, the credential (which has a digit somewhere) is not. */
export const AUTH_SCHEME = /\b(?<scheme>[Bb]earer|BEARER|[Bb]asic|BASIC)[ \t]+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}/g;

const PROVIDER_ALTERNATIVES = PROVIDER_TOKENS.map(([, , pattern]) => pattern).join('|');
export const PROVIDER_TOKEN = new RegExp(String.raw`\b(?:${PROVIDER_ALTERNATIVES})`, 'g');

/**
 * Whether a text may hold a secret at all: a separator (for names and URLs), a PEM block, an
 * HTTP scheme or a provider's key. One test of this regex decides whether the passes run: most
 * strings of a payload (names, descriptions, ids) have none of these.
 */
export const MAY_HOLD_SECRET = new RegExp(String.raw`[:=]|-----BEGIN |\b(?:[Bb]earer|BEARER|[Bb]asic|BASIC)[ \t]|\b(?:${PROVIDER_ALTERNATIVES})`);

const NAME = String.raw`[A-Za-z_][A-Za-z0-9_.-]{0,63}`;
const SEPARATOR = String.raw`(?:=>|:=|[:=])`;

/**
 * A name and a value written out: `"name": "value"` (JSON, also inside a string, escaped),
 * `'name': 'value'`, `name=value` (env files, query strings, flags), `name: value` (YAML,
 * headers). The match starts at the separator (quick to find) and looks behind it for the name
 * (named name1 to name4 by its quoting); the value is quoted or bare, and a bare value never
 * starts a PEM block (its own pattern takes it whole). Whether the name is a secret's is decided
 * by secretName, in code.
 */
export const ASSIGNMENT = new RegExp(
  String.raw`${SEPARATOR}(?<=(?<![A-Za-z0-9_])(?:"(?<name1>${NAME})"|\\"(?<name2>${NAME})\\"|'(?<name3>${NAME})'|(?<name4>${NAME}))[ \t]*${SEPARATOR})[ \t]*` +
    String.raw`(?<value>\\"(?:[^"\\]|\\[^"])*(?:\\"|$)|"(?:[^"\\\n]|\\.)*(?:"|$)|'[^'\n]*(?:'|$)|(?!-----BEGIN )(?:(?:[Bb]earer|[Bb]asic|BEARER|BASIC)[ \t]+)?[^\s"'&,;<>(){}\[\]\\]+)`,
  'g',
);
