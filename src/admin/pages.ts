// The admin listener's own pages: the sign-in form and a placeholder home. Self-contained HTML
// (no scripts, no external resources), every value escaped, kept out of caches and frames.
import type { ServerResponse } from 'node:http';
import { escapeHtml } from '../authserver/pages.ts';

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;display:flex;justify-content:center}
main{background:#fff;margin:3rem 1rem;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:28rem;width:100%}
h1{font-size:1.3rem;margin:0 0 1rem}h2{font-size:1rem;margin:1.6rem 0 .4rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #b8bfcc;border-radius:4px;font:inherit}
button{font:inherit;padding:.5rem 1.2rem;border-radius:4px;border:1px solid #2450c8;background:#2450c8;color:#fff;cursor:pointer;margin:1rem 0 0}
.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}.muted{color:#5b6475;font-size:.9rem}
code{background:#f0f1f4;padding:.1rem .3rem;border-radius:3px}`;

export function sendHtml(res: ServerResponse, status: number, title: string, body: string, headers: Record<string, string | string[]> = {}): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · Gatehouse admin</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: under it Chromium sends "Origin: null" with the sign-in POST, which the
    // listener's Origin check refuses (403). same-origin sends no referrer to other sites.
    'referrer-policy': 'same-origin',
    ...headers,
  });
  res.end(html);
}

export function loginPage(options: { error?: string; users: boolean; gatehouse?: boolean; next: string; username?: string | undefined }): string {
  const error = options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : '';
  const next = `<input type="hidden" name="next" value="${escapeHtml(options.next)}">`;
  const tokenForm = `<form method="post" action="/login">${next}
<label for="token">Admin token</label><input type="password" id="token" name="token" autocomplete="off" required autofocus>
<button type="submit">Sign in</button></form>
<p class="muted">The token is in <code>admin.token</code> in Gatehouse's data directory (or <code>admin.token</code> in the config); <code>gatehouse demo</code> prints it.</p>`;
  const userForm = options.users
    ? `<h2>Or as an admin user</h2><form method="post" action="/login">${next}
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required value="${escapeHtml(options.username ?? '')}">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<label for="code">Code from your authenticator app</label><input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code">
<p class="muted">The code only if you turned on two-factor sign-in.</p>
<button type="submit">Sign in</button></form>`
    : '';
  // Shown only when the embedded authorization server is on (and admin users are listed, or may be added: managed mode).
  const gatehouseForm = options.gatehouse
    ? `<form method="post" action="/oauth/start">${next}<button type="submit">Sign in with Gatehouse</button></form>
<p class="muted">Signs you in at Gatehouse's authorization server, as an admin user of this Gatehouse.</p>`
    : '';
  return `<h1>Gatehouse admin</h1>${error}${gatehouseForm}${tokenForm}${userForm}`;
}

/** Why a sign-in through the authorization server was refused, with the way back. */
export function signInRefusedPage(title: string, message: string): string {
  return `<h1>${escapeHtml(title)}</h1><p class="error" role="alert">${escapeHtml(message)}</p><p><a href="/login">Back to the sign-in page</a></p>`;
}

/** Signed in: on to `next` (a path of this listener, checked by the caller) by a navigation of this page. */
export function continuePage(next: string): string {
  const target = escapeHtml(next);
  return `<meta http-equiv="refresh" content="0;url=${target}"><h1>Signed in</h1><p><a href="${target}">Continue to the dashboard</a></p>`;
}
