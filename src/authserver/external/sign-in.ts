// "Sign in with <provider>" on the login page: the browser leaves for an external OpenID Connect
// provider and comes back to /oauth/external/<name>/callback, then carries on to consent as after
// a password. What the callback needs (state, nonce, PKCE verifier) is kept in the store under a
// digest of the state, single use, and names the interaction; the callback is served only to the
// browser holding that interaction's cookie (Interactions.boundSecret), so a provider's answer
// delivered to another browser (login CSRF, a stolen callback URL) signs nobody in. One callback
// path per provider: an answer from one provider cannot be passed off as another's (mix-up).
import type { Express, Request, Response } from 'express';
import express from 'express';
import type { Store, UserRecord } from '../../store/store.ts';
import type { Logger } from '../../log.ts';
import type { ExternalProviderConfig } from '../../config/oidc-login-schema.ts';
import { sha256 } from '../clients.ts';
import { sendErrorPage } from '../pages.ts';
import type { FoundInteraction, Interactions } from '../interaction.ts';
import type { AuthEvents } from '../events.ts';
import { createExternalUser, UserInputError } from '../users.ts';
import { ExternalSignInError, OidcClient, type PendingSignIn } from './oidc-client.ts';
import { mapClaims } from './claims.ts';
import { userTenant } from '../tenancy.ts';
import { DEFAULT_TENANT } from '../../config/tenant-schema.ts';

const START = '/oauth/external/start';

/**
 * The Gatehouse user an external provider names: existing and enabled, or created now when the
 * provider allows it (`users: create`). Shared by sign-in and identity assertions.
 */
export async function externalUser(store: Store, log: Logger, provider: ExternalProviderConfig, username: string, tenant: string | undefined, via = 'external sign-in'): Promise<UserRecord> {
  let user = await store.getUserByName(username);
  if (!user && provider.users === 'create') {
    try {
      user = await createExternalUser(store, username, tenant);
      log.info({ username, userId: user.id, provider: provider.name }, `authorization server: user created at first ${via}`);
    } catch (error) {
      // Created meanwhile by a concurrent sign-in: use that one.
      if (!(error instanceof UserInputError)) throw error;
      user = await store.getUserByName(username);
    }
  }
  if (!user) throw new ExternalSignInError(403, 'No account', `There is no Gatehouse account for ${username}. Ask an administrator to create it.`);
  if (user.disabled) throw new ExternalSignInError(403, 'Account disabled', `The Gatehouse account ${username} is disabled.`);
  // The provider's word on the tenant must agree with the account's: it cannot move a user.
  if (tenant !== undefined && userTenant(user) !== tenant) throw new ExternalSignInError(403, 'Sign-in refused', `The Gatehouse account ${username} belongs to another organisation than the one ${provider.displayName ?? provider.name} names for you. Ask your administrator.`);
  return user;
}
const pendingKey = (state: string) => `external-state:${sha256(state)}`;

interface PendingRecord extends PendingSignIn {
  interaction: string;
  provider: string;
}

function isPending(payload: Record<string, unknown>): payload is Record<string, unknown> & PendingRecord {
  return ['interaction', 'provider', 'state', 'nonce', 'verifier'].every((k) => typeof payload[k] === 'string');
}

export class ExternalSignIn {
  private readonly clients: Map<string, OidcClient>;

  constructor(
    providers: readonly ExternalProviderConfig[],
    private readonly store: Store,
    private readonly interactions: Interactions,
    private readonly events: AuthEvents,
    private readonly log: Logger,
    /** The declared tenant ids, `default` included: what a tenantClaim may name. */
    private readonly tenants: readonly string[] = [DEFAULT_TENANT],
  ) {
    this.clients = new Map(providers.map((p) => [p.name, new OidcClient(p)]));
  }

  mount(app: Express): void {
    const form = express.urlencoded({ extended: false, limit: '16kb' });
    app.post(START, form, (req, res) => this.start(req, res));
    app.get('/oauth/external/:provider/callback', (req, res) => this.callback(req, res));
  }

  private redirectUri(issuer: string, provider: string): string {
    return `${issuer}/oauth/external/${provider}/callback`;
  }

  private async start(req: Request, res: Response): Promise<void> {
    const found = await this.interactions.load(req, res);
    if (!found) return;
    const { id, interaction, expiresAt } = found;
    if (!this.interactions.csrfOk(req, res, id, interaction)) return;
    const name = typeof req.body?.provider === 'string' ? req.body.provider : '';
    const client = this.clients.get(name);
    if (!client) return sendErrorPage(res, 400, 'Unknown provider', 'This sign-in provider is not configured. Start again from your application.');
    try {
      const { url, pending } = await client.start(this.redirectUri(interaction.issuer, name));
      const record: PendingRecord = { ...pending, interaction: id, provider: name };
      await this.store.putGrant({ key: pendingKey(pending.state), payload: { ...record }, expiresAt });
      this.log.info({ provider: name, client: interaction.clientId }, 'authorization server: external sign-in started');
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, url.href);
    } catch (error) {
      this.refuse(res, error, { provider: client.displayName, clientId: interaction.clientId });
    }
  }

  private async callback(req: Request, res: Response): Promise<void> {
    const name = String(req.params.provider);
    const client = this.clients.get(name);
    if (!client) return sendErrorPage(res, 404, 'Not found', 'There is nothing here.');
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    // Single use: a replayed or forged answer finds nothing.
    const taken = state ? await this.store.takeGrant(pendingKey(state)) : undefined;
    if (!taken || !isPending(taken.payload) || taken.payload.provider !== name) {
      return this.refuse(res, new ExternalSignInError(400, 'Sign-in failed', `This answer from ${client.displayName} does not belong to a sign-in started here (unknown, expired or already used state). Start again from your application.`), { provider: client.displayName });
    }
    const pending = taken.payload;
    const found = await this.interactions.loadById(pending.interaction, res);
    if (!found) return;
    const { id, interaction } = found;
    if (this.interactions.boundSecret(req, res, id, interaction) === undefined) return;
    try {
      const redirectUri = this.redirectUri(interaction.issuer, name);
      // The URL the provider sent the browser to; only its query matters to the check.
      const answer = new URL(redirectUri);
      answer.search = new URL(req.originalUrl, answer).search;
      const claims = await client.finish(answer, redirectUri, pending);
      const mapped = mapClaims(client.config, claims);
      if ('problem' in mapped) throw new ExternalSignInError(403, 'Sign-in refused', `${client.displayName} signed you in, but ${mapped.problem}.`);
      if (mapped.tenant !== undefined && !this.tenants.includes(mapped.tenant)) {
        throw new ExternalSignInError(403, 'Sign-in refused', `${client.displayName} signed you in, but the organisation it names for you ("${mapped.tenant.slice(0, 80)}") is not one this gateway serves. Ask your administrator.`);
      }
      const user = await this.userFor(client.config, mapped.username, mapped.tenant);
      this.events.emit('external-sign-in', { endpoint: req.path, status: 303, clientId: interaction.clientId, userId: user.id, detail: `signed in with ${name} as ${user.username}` });
      await this.signedIn(res, found, user, name, mapped.groups);
    } catch (error) {
      this.refuse(res, error, { provider: client.displayName, clientId: interaction.clientId, endpoint: req.path });
    }
  }

  private userFor(provider: ExternalProviderConfig, username: string, tenant: string | undefined): Promise<UserRecord> {
    return externalUser(this.store, this.log, provider, username, tenant);
  }

  private async signedIn(res: Response, found: FoundInteraction, user: UserRecord, idp: string, groups: string[] | undefined): Promise<void> {
    const { id, interaction, expiresAt } = found;
    const { groups: _previous, ...rest } = interaction;
    const signed = { ...rest, userId: user.id, username: user.username, idp, ...(groups !== undefined && { groups }) };
    await this.interactions.signedIn(res, id, signed, expiresAt, user);
  }

  private refuse(res: Response, error: unknown, context: { provider: string; clientId?: string; endpoint?: string }): void {
    if (!(error instanceof ExternalSignInError)) {
      this.log.error({ err: error, provider: context.provider }, 'authorization server: external sign-in failed unexpectedly');
      return sendErrorPage(res, 500, 'Sign-in failed', 'Something went wrong. Start again from your application.');
    }
    this.events.emit('external-sign-in-refused', { endpoint: context.endpoint ?? START, status: error.status, clientId: context.clientId, detail: `external sign-in with ${context.provider} refused: ${error.message}` });
    sendErrorPage(res, error.status, error.title, error.message);
  }
}
