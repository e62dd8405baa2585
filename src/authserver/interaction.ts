// The browser part of an authorization: sign in (or sign up), then consent. An interaction is a
// short-lived, single-use record in the store, created by a validated authorization request.
// It belongs to the browser that made that request: /oauth/authorize sets an HttpOnly,
// SameSite=Lax cookie holding a secret whose digest the interaction keeps, and every later step
// (each page and each form) is refused (403) without that cookie. Otherwise whoever holds the
// link could have someone else sign in on it and then answer the consent page themselves (the
// "consent bypass": an attacker starts an authorization for their own client, sends the sign-in
// link to a victim, and approves once the victim has signed in). The same secret is the forms'
// CSRF token (double submit: field equals cookie). The consent answer consumes the interaction:
// it cannot be replayed, and the code it yields is single-use too.
import { timingSafeEqual } from 'node:crypto';
import type { Express, Request, Response } from 'express';
import express from 'express';
import type { Store } from '../store/store.ts';
import type { Logger } from '../log.ts';
import { randomToken, sha256 } from './clients.ts';
import { codePage, consentPage, loginPage, sendErrorPage, sendPage, signupPage } from './pages.ts';
import { withParams } from './redirects.ts';
import { grantKeys, type TokenIssuer } from './tokens.ts';
import { CODE_TTL_MS, type BeginInteraction, type CodePayload } from './provider.ts';
import { checkLogin, createUser, UserInputError } from './users.ts';
import { LoginThrottle } from './throttle.ts';
import { hasSecondFactor, type SecondFactor } from './second-factor.ts';
import type { AuthEvents } from './events.ts';
import { ADMIN_CLIENT_ID } from './admin-client.ts';
import { userMayReach, userTenant, WRONG_TENANT_TITLE, wrongTenantMessage } from './tenancy.ts';
import type { UserRecord } from '../store/store.ts';
import type { SignInConnections } from './sign-in-connections.ts';

const INTERACTION_TTL_MS = 10 * 60_000;
/** How long a completed authorization's `state` is remembered per client (reuse is refused). */
export const STATE_MEMORY_MS = 24 * 3_600_000;

export interface Interaction {
  clientId: string;
  clientName: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  codeChallenge: string;
  resource: string;
  issuer: string;
  csrfHash: string;
  userId?: string;
  username?: string;
  /**
   * A user with two-factor sign-in who gave the right password: the code is still to come
   * (/oauth/login/code), in this interaction only; `userId` is set once it has.
   */
  passwordUserId?: string;
  /** Set by a sign-in at an external provider (external/): its name and the groups it gave. */
  idp?: string;
  groups?: string[];
}

export interface InteractionOptions {
  selfRegistration: boolean;
  issuer: (req: Request) => string;
  /** External OpenID Connect providers offered beside the password form (external/). */
  providers?: ReadonlyArray<{ name: string; displayName: string }>;
  /** The tenant of the API a resource names (tenancy.ts); undefined for what is no API. */
  tenantOf?: (resource: string) => string | undefined;
  /** Users' TOTP second factor (second-factor.ts). */
  secondFactor: SecondFactor;
  /** Security events (a refused code). */
  events: AuthEvents;
  /** Upstream accounts to connect after consent, before the client gets its code (sign-in-connections.ts). */
  connections?: SignInConnections | undefined;
}

/** A loaded interaction: its id, its record and when it expires. */
export interface FoundInteraction {
  id: string;
  interaction: Interaction;
  expiresAt: number;
}

function cookieName(id: string): string {
  return `gh_csrf_${id.slice(0, 16)}`;
}

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Whether `secret` hashes to `digest` (constant time). */
function sameDigest(secret: string, digest: string): boolean {
  const a = Buffer.from(sha256(secret), 'hex');
  const b = Buffer.from(digest, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

function field(source: unknown, name: string): string | undefined {
  const value = typeof source === 'object' && source !== null ? (source as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export class Interactions {
  private readonly throttle = new LoginThrottle();

  constructor(
    private readonly store: Store,
    private readonly tokens: TokenIssuer,
    private readonly log: Logger,
    private readonly options: InteractionOptions,
  ) {}

  /** Records the request and sends the browser to the sign-in page. */
  readonly begin: BeginInteraction = async (client, params, res) => {
    const id = randomToken();
    const csrf = randomToken();
    const interaction: Interaction = {
      clientId: client.client_id,
      clientName: client.client_name?.trim() || client.client_id,
      redirectUri: params.redirectUri,
      scopes: params.scopes ?? [],
      state: params.state,
      codeChallenge: params.codeChallenge,
      resource: params.audience,
      issuer: this.options.issuer(res.req),
      csrfHash: sha256(csrf),
    };
    await this.save(id, interaction, Date.now() + INTERACTION_TTL_MS);
    this.setCookie(res, id, csrf, interaction.issuer);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, `/oauth/login?interaction=${id}`);
  };

  mount(app: Express): void {
    const form = express.urlencoded({ extended: false, limit: '16kb' });
    app.get('/oauth/login', (req, res) => this.showLogin(req, res));
    app.post('/oauth/login', form, (req, res) => this.login(req, res));
    app.post('/oauth/login/code', form, (req, res) => this.loginCode(req, res));
    app.get('/oauth/signup', (req, res) => this.showSignup(req, res));
    app.post('/oauth/signup', form, (req, res) => this.signup(req, res));
    app.get('/oauth/consent', (req, res) => this.showConsent(req, res));
    app.post('/oauth/consent', form, (req, res) => this.consent(req, res));
  }

  private async save(id: string, interaction: Interaction, expiresAt: number): Promise<void> {
    await this.store.putGrant({ key: grantKeys.interaction(id), payload: { ...interaction }, expiresAt });
  }

  private setCookie(res: Response, id: string, csrf: string, issuer: string): void {
    res.cookie(cookieName(id), csrf, { httpOnly: true, sameSite: 'lax', path: '/oauth', maxAge: INTERACTION_TTL_MS, secure: issuer.startsWith('https:') });
  }

  /** The interaction named by the request, or an error page was sent. */
  load(req: Request, res: Response): Promise<FoundInteraction | undefined> {
    return this.loadById(field(req.method === 'POST' ? req.body : req.query, 'interaction'), res);
  }

  /** The interaction of that id, or an error page was sent. */
  async loadById(id: string | undefined, res: Response): Promise<FoundInteraction | undefined> {
    const grant = id && /^[A-Za-z0-9_-]{20,100}$/.test(id) ? await this.store.getGrant(grantKeys.interaction(id)) : undefined;
    if (!id || !grant) {
      sendErrorPage(res, 400, 'Request expired', 'This authorization request has expired or was already answered.');
      return undefined;
    }
    return { id, interaction: grant.payload as unknown as Interaction, expiresAt: grant.expiresAt };
  }

  /**
   * The interaction's browser secret, when this browser holds it (the cookie set by
   * /oauth/authorize); else a 403 page was sent. Never issued anew here: a browser without the
   * cookie did not start this authorization.
   */
  boundSecret(req: Request, res: Response, id: string, interaction: Interaction): string | undefined {
    const cookie = readCookie(req, cookieName(id));
    if (cookie !== undefined && sameDigest(cookie, interaction.csrfHash)) return cookie;
    this.log.warn({ client: interaction.clientId, address: req.socket.remoteAddress }, 'authorization server: an interaction step from a browser that did not start it was refused');
    sendErrorPage(res, 403, 'Wrong browser', 'This sign-in was started in another browser (or its cookie has expired). Start again from your application, in this browser.');
    return undefined;
  }

  /** Field equals cookie equals the interaction's token; else a 403 page was sent. */
  csrfOk(req: Request, res: Response, id: string, interaction: Interaction): boolean {
    const posted = field(req.body, 'csrf');
    const cookie = readCookie(req, cookieName(id));
    const ok = posted !== undefined && cookie !== undefined && posted === cookie && sameDigest(posted, interaction.csrfHash);
    if (!ok) sendErrorPage(res, 403, 'Forbidden', 'The form could not be verified (missing or wrong CSRF token). Start again from your application.');
    return ok;
  }

  private signupUrl(id: string): string | undefined {
    return this.options.selfRegistration ? `/oauth/signup?interaction=${id}` : undefined;
  }

  private async showLogin(req: Request, res: Response): Promise<void> {
    const found = await this.load(req, res);
    if (!found) return;
    const { id, interaction } = found;
    const csrf = this.boundSecret(req, res, id, interaction);
    if (csrf === undefined) return;
    if (interaction.userId) return res.redirect(303, `/oauth/consent?interaction=${id}`);
    const waiting = interaction.passwordUserId ? await this.store.getUser(interaction.passwordUserId) : undefined;
    if (waiting) return sendPage(res, 200, 'Enter your code', codePage({ interaction: id, csrf, clientName: interaction.clientName, username: waiting.username }));
    const signupUrl = this.signupUrl(id);
    sendPage(res, 200, 'Sign in', loginPage({ interaction: id, csrf, clientName: interaction.clientName, providers: this.options.providers ?? [], ...(signupUrl ? { signupUrl } : {}) }));
  }

  private async login(req: Request, res: Response): Promise<void> {
    const found = await this.load(req, res);
    if (!found) return;
    const { id, interaction, expiresAt } = found;
    if (!this.csrfOk(req, res, id, interaction)) return;
    const username = field(req.body, 'username') ?? '';
    const address = req.socket.remoteAddress ?? '';
    const signupUrl = this.signupUrl(id);
    const again = (status: number, error: string) =>
      sendPage(res, status, 'Sign in', loginPage({ interaction: id, csrf: field(req.body, 'csrf')!, clientName: interaction.clientName, providers: this.options.providers ?? [], error, username, ...(signupUrl ? { signupUrl } : {}) }));
    const wait = this.throttle.blockedFor(username, address);
    if (wait > 0) {
      this.log.warn({ username: username.slice(0, 64), address }, 'authorization server: sign-in throttled after repeated failures');
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      return again(429, `Too many failed attempts. Try again in ${Math.ceil(wait / 60_000)} minutes.`);
    }
    const user = await checkLogin(this.store, username, field(req.body, 'password') ?? '');
    if (!user) {
      this.throttle.fail(username, address);
      this.log.info({ username: username.slice(0, 64), client: interaction.clientId }, 'authorization server: failed sign-in');
      return again(401, 'Wrong username or password.');
    }
    if (hasSecondFactor(user)) {
      // The password was right; the code decides. Failures stay counted until the code is right.
      await this.save(id, { ...interaction, passwordUserId: user.id }, expiresAt);
      return sendPage(res, 200, 'Enter your code', codePage({ interaction: id, csrf: field(req.body, 'csrf')!, clientName: interaction.clientName, username: user.username }));
    }
    this.throttle.succeed(username, address);
    await this.signedIn(res, id, { ...interaction, userId: user.id, username: user.username }, expiresAt, user);
  }

  /** The second step of a sign-in: the TOTP code of the user whose password was right in this interaction. */
  private async loginCode(req: Request, res: Response): Promise<void> {
    const found = await this.load(req, res);
    if (!found) return;
    const { id, interaction, expiresAt } = found;
    if (!this.csrfOk(req, res, id, interaction)) return;
    const user = interaction.passwordUserId ? await this.store.getUser(interaction.passwordUserId) : undefined;
    if (!user || user.disabled) return res.redirect(303, `/oauth/login?interaction=${id}`);
    const address = req.socket.remoteAddress ?? '';
    const again = (status: number, error: string) => sendPage(res, status, 'Enter your code', codePage({ interaction: id, csrf: field(req.body, 'csrf')!, clientName: interaction.clientName, username: user.username, error }));
    const wait = this.throttle.blockedFor(user.username, address);
    if (wait > 0) {
      this.log.warn({ username: user.username, address }, 'authorization server: sign-in throttled after repeated failures');
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      return again(429, `Too many failed attempts. Try again in ${Math.ceil(wait / 60_000)} minutes.`);
    }
    const outcome = await this.options.secondFactor.check(user, field(req.body, 'code') ?? '');
    if (outcome !== 'ok') {
      this.throttle.fail(user.username, address);
      const detail = outcome === 'replayed' ? 'a second-factor code was used again (refused: each code is good once)' : outcome === 'unavailable' ? 'a second-factor code could not be checked: the TOTP secret does not open with the credentials key' : 'a wrong second-factor code was given after a right password';
      this.options.events.emit('second-factor-refused', { endpoint: '/oauth/login/code', status: 401, clientId: interaction.clientId, userId: user.id, resource: interaction.resource, address, detail });
      return again(outcome === 'unavailable' ? 503 : 401, outcome === 'replayed' ? 'That code was already used. Wait for the next one.' : outcome === 'unavailable' ? 'Codes cannot be checked right now. Ask an administrator.' : 'Wrong code.');
    }
    this.throttle.succeed(user.username, address);
    const { passwordUserId: _done, ...rest } = interaction;
    await this.signedIn(res, id, { ...rest, userId: user.id, username: user.username }, expiresAt, user);
  }

  /**
   * After sign-in (or sign-up): on to the consent page; except for the admin listener's built-in
   * client (admin-client.ts), which is Gatehouse's own console asking who you are: nothing to
   * consent to, so the authorization completes at once (whether the user may administer is the
   * admin listener's decision).
   */
  async signedIn(res: Response, id: string, interaction: Interaction, expiresAt: number, user: UserRecord): Promise<void> {
    if (interaction.clientId !== ADMIN_CLIENT_ID) {
      if (!this.mayReach(user, interaction)) return this.refuseTenant(res, id, interaction, user);
      await this.save(id, interaction, expiresAt);
      return res.redirect(303, `/oauth/consent?interaction=${id}`);
    }
    if (!(await this.store.takeGrant(grantKeys.interaction(id)))) {
      return sendErrorPage(res, 400, 'Request expired', 'This authorization request has expired or was already answered.');
    }
    res.clearCookie(cookieName(id), { path: '/oauth' });
    await this.complete(res, interaction, user, true);
  }

  /** The tenant of the API this authorization is for (undefined: the admin listener, no API). */
  apiTenant(interaction: Interaction): string | undefined {
    return this.options.tenantOf?.(interaction.resource);
  }

  private mayReach(user: UserRecord, interaction: Interaction): boolean {
    return interaction.clientId === ADMIN_CLIENT_ID || userMayReach(user, this.apiTenant(interaction));
  }

  /**
   * A user of another tenant than the API's: this authorization request ends here, with a page
   * that names the account only (the client already knows which API it asked for; the page
   * tells nothing more of who owns it).
   */
  private async refuseTenant(res: Response, id: string, interaction: Interaction, user: UserRecord): Promise<void> {
    await this.store.deleteGrant(grantKeys.interaction(id));
    res.clearCookie(cookieName(id), { path: '/oauth' });
    this.log.info({ client: interaction.clientId, userId: user.id, userTenant: userTenant(user), apiTenant: this.apiTenant(interaction), resource: interaction.resource }, 'authorization server: sign-in refused, the user belongs to another tenant than the API');
    sendErrorPage(res, 403, WRONG_TENANT_TITLE, wrongTenantMessage(user.username));
  }

  private async showSignup(req: Request, res: Response): Promise<void> {
    if (!this.options.selfRegistration) return sendErrorPage(res, 404, 'Not available', 'Creating accounts here is turned off. Ask an administrator for an account.');
    const found = await this.load(req, res);
    if (!found) return;
    const { id, interaction } = found;
    const csrf = this.boundSecret(req, res, id, interaction);
    if (csrf === undefined) return;
    sendPage(res, 200, 'Create an account', signupPage({ interaction: id, csrf, clientName: interaction.clientName }));
  }

  private async signup(req: Request, res: Response): Promise<void> {
    if (!this.options.selfRegistration) return sendErrorPage(res, 404, 'Not available', 'Creating accounts here is turned off. Ask an administrator for an account.');
    const found = await this.load(req, res);
    if (!found) return;
    const { id, interaction, expiresAt } = found;
    if (!this.csrfOk(req, res, id, interaction)) return;
    const username = field(req.body, 'username') ?? '';
    try {
      const user = await createUser(this.store, username, field(req.body, 'password') ?? '', this.apiTenant(interaction));
      this.log.info({ username: user.username, userId: user.id }, 'authorization server: user signed up');
      await this.signedIn(res, id, { ...interaction, userId: user.id, username: user.username }, expiresAt, user);
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      sendPage(res, 400, 'Create an account', signupPage({ interaction: id, csrf: field(req.body, 'csrf')!, clientName: interaction.clientName, error: error.message, username }));
    }
  }

  private async showConsent(req: Request, res: Response): Promise<void> {
    const found = await this.load(req, res);
    if (!found) return;
    const { id, interaction } = found;
    const csrf = this.boundSecret(req, res, id, interaction);
    if (csrf === undefined) return;
    if (!interaction.userId || !interaction.username) return res.redirect(303, `/oauth/login?interaction=${id}`);
    const connect = interaction.clientId === ADMIN_CLIENT_ID ? [] : ((await this.options.connections?.pending(interaction, interaction.userId)) ?? []);
    const page = consentPage({
      connect,
      interaction: id,
      csrf,
      clientName: interaction.clientName,
      clientId: interaction.clientId,
      redirectUri: interaction.redirectUri,
      scopes: interaction.scopes,
      resource: interaction.resource,
      username: interaction.username,
    });
    sendPage(res, 200, 'Allow access?', page);
  }

  private async consent(req: Request, res: Response): Promise<void> {
    const found = await this.load(req, res);
    if (!found) return;
    const { id, interaction } = found;
    if (!this.csrfOk(req, res, id, interaction)) return;
    // Single use: whoever takes it first answers; a replayed form finds nothing.
    if (!(await this.store.takeGrant(grantKeys.interaction(id)))) {
      return sendErrorPage(res, 400, 'Request expired', 'This authorization request has expired or was already answered.');
    }
    res.clearCookie(cookieName(id), { path: '/oauth' });
    const user = interaction.userId ? await this.store.getUser(interaction.userId) : undefined;
    if (!user || user.disabled) return sendErrorPage(res, 400, 'Not signed in', 'Sign in before answering. Start again from your application.');
    // Checked again: the user may have moved to another tenant since signing in.
    if (interaction.clientId !== ADMIN_CLIENT_ID && !this.mayReach(user, interaction)) return this.refuseTenant(res, id, interaction, user);
    await this.complete(res, interaction, user, field(req.body, 'decision') === 'approve');
  }

  /** The answer to the client, for an interaction already taken (single use): a code, or access_denied. */
  private async complete(res: Response, interaction: Interaction, user: UserRecord, approved: boolean): Promise<void> {
    const answer = { state: interaction.state, iss: interaction.issuer };
    if (interaction.state !== undefined) {
      await this.store.putGrant({ key: grantKeys.state(interaction.clientId, interaction.state), payload: {}, expiresAt: Date.now() + STATE_MEMORY_MS });
    }
    res.setHeader('Cache-Control', 'no-store');
    if (!approved) {
      this.log.info({ client: interaction.clientId, userId: user.id }, 'authorization server: access denied by the user');
      return res.redirect(303, withParams(interaction.redirectUri, { error: 'access_denied', error_description: 'The user denied access.', ...answer }));
    }
    const connections = interaction.clientId === ADMIN_CLIENT_ID ? undefined : this.options.connections;
    const connect = connections ? await connections.pending(interaction, user.id) : [];
    if (connections && connect.length > 0) return connections.start(res, interaction, user, connect);
    await this.answerWithCode(res, interaction, user);
  }

  /** The end of a sign-in that connected upstream accounts: the code, if the user may still reach the API. */
  readonly finishConnected = async (res: Response, interaction: Interaction, user: UserRecord): Promise<void> => {
    if (!this.mayReach(user, interaction)) {
      this.log.info({ client: interaction.clientId, userId: user.id, resource: interaction.resource }, 'authorization server: sign-in refused, the user belongs to another tenant than the API');
      return sendErrorPage(res, 403, WRONG_TENANT_TITLE, wrongTenantMessage(user.username));
    }
    await this.answerWithCode(res, interaction, user);
  };

  /** The approved authorization's answer to the client: a single-use code on its redirect URI. */
  readonly answerWithCode = async (res: Response, interaction: Interaction, user: UserRecord): Promise<void> => {
    const answer = { state: interaction.state, iss: interaction.issuer };
    res.setHeader('Cache-Control', 'no-store');
    const code = randomToken();
    const payload: CodePayload = {
      clientId: interaction.clientId,
      userId: user.id,
      username: user.username,
      scopes: interaction.scopes,
      resource: interaction.resource,
      issuer: interaction.issuer,
      familyId: this.tokens.newFamilyId(),
      authTime: Date.now(),
      codeChallenge: interaction.codeChallenge,
      redirectUri: interaction.redirectUri,
      ...(interaction.idp !== undefined && { idp: interaction.idp }),
      ...(interaction.groups !== undefined && { groups: interaction.groups }),
    };
    await this.store.putGrant({ key: grantKeys.code(code), payload: { ...payload }, expiresAt: Date.now() + CODE_TTL_MS });
    this.log.info({ client: interaction.clientId, userId: user.id, scopes: interaction.scopes, resource: interaction.resource }, 'authorization server: access granted');
    res.redirect(303, withParams(interaction.redirectUri, { code, ...answer }));
  };
}
