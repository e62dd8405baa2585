// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0, adapted): /oauth/end-session.
// This server keeps no browser session of its own (every authorization signs in afresh); the
// one browser session a person has with Gatehouse is the sealed cookie of /-/connections, whose
// path is /-/. So the endpoint checks the shape of the request and sends the browser on to
// /-/end-session (the page that sees that cookie: src/credentials/oauth-user/connections-page.ts),
// which asks the person to confirm, ends the session, optionally ends the named client's grants,
// and goes back to the client only at a post_logout_redirect_uri registered for it, exactly.
// `id_token_hint` is ignored: this server issues no ID tokens.
import type { Request, Response } from 'express';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { sendErrorPage } from './pages.ts';
import { redirectUriProblem } from './redirects.ts';

export const END_SESSION_ENDPOINT = '/oauth/end-session';
/** The page under /-/ that ends the session (it sees the /-/connections cookie). */
export const END_SESSION_PAGE = '/-/end-session';
/** Parameters the page takes; others (id_token_hint, ui_locales, logout_hint) are dropped. */
export const END_SESSION_PARAMS = ['client_id', 'post_logout_redirect_uri', 'state'] as const;
const MAX_PARAM = 2048;
/** At most this many post-logout redirect URIs per client. */
export const MAX_POST_LOGOUT_URIS = 20;

export type EndSessionParams = Partial<Record<(typeof END_SESSION_PARAMS)[number], string>>;

/** The parameters of an end-session request, or why it is refused (a 400 page). */
export function endSessionParams(get: (name: string) => unknown): EndSessionParams | { error: string } {
  const out: EndSessionParams = {};
  for (const name of END_SESSION_PARAMS) {
    const value = get(name);
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string') return { error: `${name} is given more than once` };
    if (value.length > MAX_PARAM) return { error: `${name} is longer than ${MAX_PARAM} characters` };
    out[name] = value;
  }
  return out;
}

/** GET and POST /oauth/end-session: checked, then on to the page that sees the Gatehouse session. */
export function endSessionHandler() {
  return (req: Request, res: Response): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      res.status(405).setHeader('Allow', 'GET, POST');
      return sendErrorPage(res, 405, 'Method not allowed', 'Use GET or POST.');
    }
    const source = req.method === 'POST' ? ((req.body ?? {}) as Record<string, unknown>) : undefined;
    const query = new URL(req.originalUrl ?? req.url, 'http://gatehouse.invalid').searchParams;
    const get = (name: string): unknown => {
      if (source) return source[name];
      const all = query.getAll(name);
      return all.length > 1 ? all : all[0];
    };
    const params = endSessionParams(get);
    if ('error' in params) return sendErrorPage(res, 400, 'Invalid sign-out request', params.error);
    const forward = new URLSearchParams(Object.entries(params));
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.redirect(303, `${END_SESSION_PAGE}${forward.size > 0 ? `?${forward.toString()}` : ''}`);
  };
}

/** The post-logout redirect URIs a client registered (or its metadata document lists). */
export function postLogoutRedirectUris(client: OAuthClientInformationFull): string[] {
  const uris = (client as Record<string, unknown>).post_logout_redirect_uris;
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === 'string') : [];
}

/**
 * Checks `post_logout_redirect_uris` of client metadata (registration or metadata document):
 * absent, or a list of URIs allowed as redirect URIs are (redirects.ts). The list, or the problem.
 */
export function checkPostLogoutRedirectUris(value: unknown): { uris: string[] | undefined } | { error: string } {
  if (value === undefined) return { uris: undefined };
  if (!Array.isArray(value) || value.some((u) => typeof u !== 'string')) return { error: 'post_logout_redirect_uris: expected an array of URLs' };
  if (value.length > MAX_POST_LOGOUT_URIS) return { error: `post_logout_redirect_uris: at most ${MAX_POST_LOGOUT_URIS}` };
  for (const uri of value as string[]) {
    if (uri.length > MAX_PARAM) return { error: `post_logout_redirect_uris: longer than ${MAX_PARAM} characters` };
    const problem = redirectUriProblem(uri);
    if (problem) return { error: `post_logout_redirect_uris: ${problem}` };
  }
  return { uris: [...(value as string[])] };
}
