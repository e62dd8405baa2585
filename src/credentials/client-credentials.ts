// OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for an upstream: Gatehouse gets its own
// access token from the upstream's token endpoint, caches it until shortly before it expires,
// starts a refresh early (triggered by a request, so idle servers cost nothing), and shares one
// fetch among all requests that need a token at the same time. A 401 from the upstream drops
// the token. Neither the client secret nor a token is ever logged or put in an error message.
import { request } from 'undici';
import type { Logger } from '../log.ts';
import type { UpstreamCredentials } from '../upstream/upstream.ts';
import type { SecretCredential } from './secret.ts';
import { credentialUnavailable } from './failure.ts';

type ClientCredentialsConfig = Extract<SecretCredential, { type: 'client-credentials' }>;

interface Token {
  readonly headers: Readonly<Record<string, string>>;
  /** Start a background refresh from here on. */
  readonly refreshAt: number;
  /** Do not send it from here on: fetch a new one first. */
  readonly useUntil: number;
}

/** Longest a token without `expires_in` is reused (a 401 from the upstream ends it sooner). */
const DEFAULT_LIFETIME_MS = 3_600_000;
const MAX_RESPONSE_BYTES = 64 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

export class ClientCredentialsToken implements UpstreamCredentials {
  private token: Token | undefined;
  private inflight: Promise<Token> | undefined;
  private readonly endpoint: string;

  constructor(
    private readonly server: string,
    private readonly config: ClientCredentialsConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const url = new URL(config.tokenUrl);
    // For logs: where the token comes from, without any query string.
    this.endpoint = url.origin + url.pathname;
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      log.warn({ server, tokenEndpoint: this.endpoint }, 'the token endpoint is plain http: the client secret crosses the network unencrypted');
    }
  }

  async headers(): Promise<Record<string, string>> {
    const token = this.token;
    const now = this.now();
    if (token && now < token.useUntil) {
      if (now >= token.refreshAt) this.refresh().catch(() => undefined); // logged in fetch(); the current token still serves
      return token.headers;
    }
    this.log.debug({ server: this.server }, 'waiting for an upstream token');
    return (await this.refresh()).headers;
  }

  rejected(): void {
    this.token = undefined;
  }

  /** One fetch at a time: every caller that needs a token while one is on its way gets that one. */
  private refresh(): Promise<Token> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<Token> {
    const started = this.now();
    const { clientId, clientSecret, scope, audience } = this.config;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope !== undefined) form.set('scope', scope);
    if (audience !== undefined) form.set('audience', audience);
    let outcome: { status: number; body: unknown };
    try {
      const response = await request(this.config.tokenUrl, {
        method: 'POST',
        headers: {
          // RFC 6749 §2.3.1: client_secret_basic, id and secret form-encoded first.
          authorization: `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        headersTimeout: REQUEST_TIMEOUT_MS,
        bodyTimeout: REQUEST_TIMEOUT_MS,
      });
      outcome = { status: response.statusCode, body: await readJson(response.body) };
    } catch (error) {
      this.log.warn({ server: this.server, tokenEndpoint: this.endpoint, err: (error as Error).message }, 'upstream token request failed');
      throw credentialUnavailable(this.server);
    }
    const parsed = parseTokenResponse(outcome.status, outcome.body);
    if (!parsed.ok) {
      this.log.warn({ server: this.server, tokenEndpoint: this.endpoint, status: outcome.status, reason: parsed.reason }, 'upstream token request refused');
      throw credentialUnavailable(this.server);
    }
    const lifetime = parsed.expiresIn === undefined ? DEFAULT_LIFETIME_MS : parsed.expiresIn * 1000;
    // Counted from before the request was sent, so the token is never thought younger than it is.
    const expiresAt = started + lifetime;
    const token: Token = {
      headers: Object.freeze({ authorization: `Bearer ${parsed.accessToken}` }),
      useUntil: expiresAt - Math.min(30_000, lifetime * 0.1),
      refreshAt: expiresAt - Math.min(60_000, lifetime * 0.3),
    };
    this.token = token;
    this.log.debug({ server: this.server, tokenEndpoint: this.endpoint, expiresIn: parsed.expiresIn }, 'obtained an upstream token');
    return token;
  }
}

type TokenResponse = { ok: true; accessToken: string; expiresIn: number | undefined } | { ok: false; reason: string };

/** RFC 6749 §5.1/§5.2. The reason names the OAuth error code or what is missing, never a value from a successful answer. */
function parseTokenResponse(status: number, body: unknown): TokenResponse {
  const fields = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if (status < 200 || status >= 300) {
    const code = typeof fields.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(fields.error) ? fields.error : undefined;
    return { ok: false, reason: code ? `HTTP ${status}, error ${code}` : `HTTP ${status}` };
  }
  if (typeof fields.access_token !== 'string' || fields.access_token === '') return { ok: false, reason: 'no access_token in the answer' };
  if (!/^[\x21-\x7e]+$/.test(fields.access_token)) return { ok: false, reason: 'access_token is not a header-safe string' };
  if (fields.token_type !== undefined && (typeof fields.token_type !== 'string' || fields.token_type.toLowerCase() !== 'bearer')) {
    return { ok: false, reason: 'token_type is not Bearer' };
  }
  const expires = typeof fields.expires_in === 'string' ? Number(fields.expires_in) : fields.expires_in;
  if (expires !== undefined && (typeof expires !== 'number' || !Number.isFinite(expires) || expires <= 0)) {
    return { ok: false, reason: 'expires_in is not a positive number' };
  }
  return { ok: true, accessToken: fields.access_token, expiresIn: expires };
}

async function readJson(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      throw new Error(`the answer exceeds ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks before Basic encoding. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}
