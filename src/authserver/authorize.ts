// The authorization endpoint. Checks come in two stages (OAuth 2.1 §4.1.2.1): while the client
// or its redirect URI is unknown or unregistered, the answer is an error page and never a
// redirect (no open redirector); after that, errors go back to the client's redirect URI with
// `state` and `iss` (RFC 9207). A valid request starts the sign-in and consent interaction.
import type { Request, Response } from 'express';
import type { ClientRegistry } from './clients.ts';
import type { BeginInteraction } from './provider.ts';
import { redirectMatches, withParams } from './redirects.ts';
import { matchResource } from './resources.ts';
import { sendErrorPage } from './pages.ts';
import { grantKeys, OFFLINE_ACCESS } from './tokens.ts';
import type { Store } from '../store/store.ts';
import { ADMIN_CLIENT_ID, ADMIN_RESOURCE } from './admin-client.ts';

export interface AuthorizeDeps {
  store: Store;
  clients: ClientRegistry;
  begin: BeginInteraction;
  issuer: (req: Request) => string;
  publicBase: (req: Request) => string;
  supportedScopes: ReadonlySet<string>;
  /** Scopes granted when the request names none. */
  defaultScopes: readonly string[];
  apiPaths: readonly string[];
}

class Redirectable extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export function authorizeHandler(deps: AuthorizeDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    res.setHeader('Cache-Control', 'no-store');
    const source = (req.method === 'POST' ? req.body : req.query) as Record<string, unknown> | undefined;
    const repeated = Object.entries(source ?? {}).filter(([, v]) => typeof v !== 'string').map(([k]) => k);
    const param = (name: string): string | undefined => {
      const value = source?.[name];
      return typeof value === 'string' ? value : undefined;
    };

    // Stage 1: nothing may be redirected until client and redirect URI are known good.
    const clientId = param('client_id');
    if (repeated.includes('client_id') || repeated.includes('redirect_uri')) return sendErrorPage(res, 400, 'Invalid request', 'client_id and redirect_uri must each be given once.');
    if (!clientId) return sendErrorPage(res, 400, 'Invalid request', 'client_id is missing.');
    const found = await deps.clients.lookup(clientId);
    if ('error' in found) return sendErrorPage(res, 400, 'Unknown application', `This application cannot sign in here: ${found.error}.`);
    const { client } = found;
    let redirectUri = param('redirect_uri');
    if (redirectUri === undefined) {
      if (client.redirect_uris.length !== 1) return sendErrorPage(res, 400, 'Invalid request', 'redirect_uri is required for this application.');
      redirectUri = client.redirect_uris[0]!;
    } else if (!redirectMatches(redirectUri, client.redirect_uris)) {
      return sendErrorPage(res, 400, 'Invalid redirect URI', 'The redirect_uri is not registered for this application, so Gatehouse will not send you there.');
    }

    // Stage 2: errors go back to the client.
    const state = param('state');
    const issuer = deps.issuer(req);
    try {
      if (repeated.length > 0) throw new Redirectable('invalid_request', `parameters given more than once: ${repeated.join(', ')}`);
      const responseType = param('response_type');
      if (responseType !== 'code') throw new Redirectable('unsupported_response_type', 'response_type must be "code"');
      const challenge = param('code_challenge');
      const method = param('code_challenge_method');
      if (!challenge) throw new Redirectable('invalid_request', 'code_challenge is required (PKCE)');
      if (method !== 'S256') throw new Redirectable('invalid_request', `code_challenge_method must be S256${method ? ` ("${method}" is not accepted)` : ''}`);
      if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) throw new Redirectable('invalid_request', 'code_challenge must be a base64url SHA-256 digest (43 characters)');
      const scopes = scopesOf(param('scope'), deps);
      const resource = client.client_id === ADMIN_CLIENT_ID ? adminResource(param('resource')) : matchResource(param('resource'), deps.publicBase(req), deps.apiPaths);
      if ('problem' in resource) throw new Redirectable('invalid_target', resource.problem);
      if (param('prompt')?.split(' ').includes('none')) throw new Redirectable('login_required', 'this server always asks the user to sign in');
      if (state !== undefined && (await deps.store.getGrant(grantKeys.state(client.client_id, state)))) {
        throw new Redirectable('invalid_request', 'state was already used for a completed authorization; use a fresh state');
      }
      await deps.begin(client, { state, scopes, redirectUri, codeChallenge: challenge, resource: new URL(resource.audience), audience: resource.audience }, res);
    } catch (error) {
      if (!(error instanceof Redirectable)) throw error;
      res.redirect(303, withParams(redirectUri, { error: error.error, error_description: error.description, state, iss: issuer }));
    }
  };
}

function scopesOf(scope: string | undefined, deps: AuthorizeDeps): string[] {
  const requested = [...new Set((scope ?? '').split(' ').filter((s) => s !== ''))];
  if (requested.length === 0) return [...deps.defaultScopes];
  const unknown = requested.filter((s) => !deps.supportedScopes.has(s));
  if (unknown.length > 0) throw new Redirectable('invalid_scope', `unsupported scope: ${unknown.join(' ')}`);
  // offline_access is only meaningful next to something to be offline with.
  if (requested.length === 1 && requested[0] === OFFLINE_ACCESS) return [...deps.defaultScopes, OFFLINE_ACCESS];
  return requested;
}

/** The admin listener's client gets tokens for the admin listener only (and no other client does: that URI is no API). */
function adminResource(resource: string | undefined): { audience: string } | { problem: string } {
  return resource === ADMIN_RESOURCE ? { audience: ADMIN_RESOURCE } : { problem: `the admin client's resource must be ${ADMIN_RESOURCE}` };
}
