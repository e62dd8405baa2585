// Test helpers for the embedded authorization server: an OAuthClientProvider for the SDK client
// (in memory, like a real client's token store), a person at an HTTP "browser" who signs in and
// answers the consent page over real HTTP (cookies kept, redirects not followed so each step is
// visible), and a Gatehouse with an oauth2 API in front of server-everything.
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { startEverything, startTestGateway, type RunningEverything, type TestGateway } from './gatehouse.ts';
import { createUser } from '../../src/authserver/users.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

export const USER = { username: 'ada', password: 'correct horse battery staple' } as const;

/** A client provider like a desktop app's: it stores what the SDK hands it and "opens the browser" by calling `onRedirect`. */
export class TestOAuthClient implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier: string | undefined;
  lastState: string | undefined;
  authorizationUrls: URL[] = [];

  constructor(
    readonly redirectUrl: string,
    private readonly onRedirect: (url: URL) => Promise<void>,
    readonly metadata: Partial<OAuthClientMetadata> = {},
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Gatehouse test client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...this.metadata,
    };
  }
  state(): string {
    this.lastState = crypto.randomUUID();
    return this.lastState;
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.info = info;
  }
  tokens(): OAuthTokens | undefined {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    await this.onRedirect(url);
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }
}

/** Cookies as a browser keeps them for one host (enough for these tests: one origin, path /oauth). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The value of a hidden form field in a page. */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no hidden field ${name} in: ${html}`);
  return match[1]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

export interface Step {
  status: number;
  location: string | null;
  text: string;
}

/** One browser request: cookies sent and kept, no redirect followed. */
export async function browse(jar: CookieJar, url: string, form?: Record<string, string>): Promise<Step> {
  const headers: Record<string, string> = { accept: 'text/html' };
  if (jar.cookies.size > 0) headers.cookie = jar.header();
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const response = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
  jar.take(response);
  return { status: response.status, location: response.headers.get('location'), text: await response.text() };
}

export interface PlayedFlow {
  /** Where the browser was sent at the end: the client's redirect URI with code (or error), state and iss. */
  final: URL;
  loginPage: string;
  consentPage: string;
  jar: CookieJar;
  interaction: string;
}

/** A person in a browser: open the authorization URL, sign in, answer the consent page. */
export async function playUser(
  authorizationUrl: URL | string,
  options: { username?: string; password?: string; decision?: 'approve' | 'deny'; jar?: CookieJar; code?: () => string | Promise<string> } = {},
): Promise<PlayedFlow> {
  const jar = options.jar ?? new CookieJar();
  const start = await browse(jar, String(authorizationUrl));
  if (start.status !== 303 || !start.location) throw new Error(`authorize answered ${start.status}: ${start.text}`);
  const loginUrl = new URL(start.location, authorizationUrl);
  if (loginUrl.pathname !== '/oauth/login') return { final: loginUrl, loginPage: '', consentPage: '', jar, interaction: '' };
  const login = await browse(jar, loginUrl.href);
  if (login.status !== 200) throw new Error(`login page answered ${login.status}: ${login.text}`);
  const interaction = hiddenField(login.text, 'interaction');
  const signedIn = await browse(jar, new URL('/oauth/login', loginUrl).href, {
    interaction,
    csrf: hiddenField(login.text, 'csrf'),
    username: options.username ?? USER.username,
    password: options.password ?? USER.password,
  });
  let afterSignIn = signedIn;
  if (signedIn.status === 200 && signedIn.text.includes('action="/oauth/login/code"')) {
    // Two-factor sign-in: the second step asks for the code of the person's authenticator app.
    if (!options.code) throw new Error('sign-in asked for a second-factor code, and the test gave none');
    afterSignIn = await browse(jar, new URL('/oauth/login/code', loginUrl).href, { interaction, csrf: hiddenField(signedIn.text, 'csrf'), code: await options.code() });
  }
  if (afterSignIn.status !== 303 || !afterSignIn.location) throw new Error(`sign-in answered ${afterSignIn.status}: ${afterSignIn.text}`);
  const consentUrl = new URL(afterSignIn.location, loginUrl);
  const consent = await browse(jar, consentUrl.href);
  if (consent.status !== 200) throw new Error(`consent page answered ${consent.status}: ${consent.text}`);
  const answered = await browse(jar, new URL('/oauth/consent', loginUrl).href, {
    interaction,
    csrf: hiddenField(consent.text, 'csrf'),
    decision: options.decision ?? 'approve',
  });
  if (answered.status !== 303 || !answered.location) throw new Error(`consent answered ${answered.status}: ${answered.text}`);
  return { final: new URL(answered.location, loginUrl), loginPage: login.text, consentPage: consent.text, jar, interaction };
}

export interface OAuthSetup {
  everything: RunningEverything;
  gh: TestGateway;
  /** The MCP endpoint's URL (the OAuth resource). */
  url: string;
  close(): Promise<void>;
}

/** server-everything behind an API with `auth: { type: oauth2 }` (the embedded authorization server), with one user. */
export async function startOAuthGateway(extra: Partial<ConfigInput> = {}, options: { dataDir?: string } = {}): Promise<OAuthSetup> {
  const everything = await startEverything();
  try {
    const gh = await startTestGateway(
      {
        servers: { everything: { url: `${everything.origin}/mcp` } },
        apis: [{ name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'oauth2' } }],
        ...extra,
      },
      options,
    );
    if (!(await gh.gateway.store.getUserByName(USER.username))) await createUser(gh.gateway.store, USER.username, USER.password);
    return {
      everything,
      gh,
      url: gh.url(),
      close: async () => {
        await gh.close();
        await everything.close();
      },
    };
  } catch (error) {
    await everything.close();
    throw error;
  }
}

/** PKCE pair for hand-made authorization requests. */
export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const verifier = Buffer.from(bytes).toString('base64url');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: Buffer.from(digest).toString('base64url') };
}

/** Registers a public client by dynamic registration; returns its client_id. */
export async function registerClient(origin: string, metadata: Record<string, unknown> = {}): Promise<string> {
  const response = await fetch(`${origin}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'hand-made client', redirect_uris: ['http://127.0.0.1:9999/callback'], token_endpoint_auth_method: 'none', ...metadata }),
  });
  const body = (await response.json()) as { client_id?: string };
  if (response.status !== 201 || !body.client_id) throw new Error(`registration answered ${response.status}: ${JSON.stringify(body)}`);
  return body.client_id;
}

/** POST to the token endpoint; returns status and JSON body. */
export async function tokenRequest(origin: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
