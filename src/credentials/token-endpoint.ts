// A client's POST to an OAuth token endpoint (RFC 6749 §3.2) and the reading of its answer, shared
// by the grants Gatehouse makes for upstreams (client credentials, token exchange). The client
// authenticates with HTTP Basic; every request has a deadline; an answer is read up to 64 KiB.
// Nothing here logs: callers log what names the request, never a secret or a token.
import { request } from 'undici';
import { egressAgent, type EgressRule } from '../upstream/egress.ts';

const MAX_RESPONSE_BYTES = 64 * 1024;

export interface TokenClient {
  readonly id: string;
  readonly secret: string;
}

/** What a token endpoint answered: its status and its parsed JSON body (undefined when not JSON). */
export interface TokenEndpointAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * POSTs `form` with client_secret_basic; throws on a network failure or when `timeoutMs` passes.
 * `egress`: the server's tenant's rule, which the token endpoint is held to as the server is.
 */
export async function postTokenRequest(url: string, form: URLSearchParams, client: TokenClient, timeoutMs: number, egress?: EgressRule): Promise<TokenEndpointAnswer> {
  const response = await request(url, {
    ...(egress && { dispatcher: egressAgent(egress) }),
    method: 'POST',
    headers: {
      // RFC 6749 §2.3.1: client_secret_basic, id and secret form-encoded first.
      authorization: `Basic ${Buffer.from(`${formEncode(client.id)}:${formEncode(client.secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: form.toString(),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // One deadline for the whole exchange, connecting included.
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.statusCode, body: await readJson(response.body) };
}

/** Whether a failure of postTokenRequest was its deadline (or undici's own timeouts). */
export function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  return error.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

export type TokenResponse =
  | { ok: true; accessToken: string; expiresIn: number | undefined; fields: Readonly<Record<string, unknown>> }
  /** `error` is the OAuth error code when the server gave a well-formed one. */
  | { ok: false; reason: string; error?: string };

/** RFC 6749 §5.1/§5.2. The reason names the OAuth error code or what is missing, never a value from a successful answer. */
export function parseTokenResponse(status: number, body: unknown): TokenResponse {
  const fields = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if (status < 200 || status >= 300) {
    const code = typeof fields.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(fields.error) ? fields.error : undefined;
    return code ? { ok: false, reason: `HTTP ${status}, error ${code}`, error: code } : { ok: false, reason: `HTTP ${status}` };
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
  return { ok: true, accessToken: fields.access_token, expiresIn: expires, fields };
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

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}
