// The server-rendered pages of the authorization server: sign-in, sign-up, consent and errors.
// Small, self-contained HTML (no scripts, no external resources); every value is escaped.
import type { Response } from 'express';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;display:flex;justify-content:center}
main{background:#fff;margin:3rem 1rem;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:26rem;width:100%}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #b8bfcc;border-radius:4px;font:inherit}
button{font:inherit;padding:.5rem 1.2rem;border-radius:4px;border:1px solid #2450c8;background:#2450c8;color:#fff;cursor:pointer;margin:1.2rem .5rem 0 0}
button.secondary{background:#fff;color:#2450c8}.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}
code{background:#f0f1f4;padding:.1rem .3rem;border-radius:3px;word-break:break-all}ul{padding-left:1.2rem}.muted{color:#5b6475;font-size:.9rem}`;

/** Headers that keep these pages out of caches, frames and other origins' reach. */
export function pageHeaders(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Not no-referrer: under it a browser sends `Origin: null` with the page's own form posts, which
  // the Origin check (src/http/guards.ts) must refuse. same-origin still sends nothing elsewhere,
  // so the client's redirect URI never learns the interaction URL.
  res.setHeader('Referrer-Policy', 'same-origin');
}

export function sendPage(res: Response, status: number, title: string, body: string): void {
  pageHeaders(res);
  res.status(status).type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · Gatehouse</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`);
}

export function sendErrorPage(res: Response, status: number, title: string, message: string): void {
  sendPage(res, status, title, `<h1>${escapeHtml(title)}</h1><p class="error">${escapeHtml(message)}</p><p class="muted">You can close this window and start again from your application.</p>`);
}

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
}

function errorBox(error: string | undefined): string {
  return error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
}

export interface FormContext {
  interaction: string;
  csrf: string;
  clientName: string;
}

export function loginPage(ctx: FormContext & { error?: string; signupUrl?: string; username?: string; providers?: ReadonlyArray<{ name: string; displayName: string }> }): string {
  const signup = ctx.signupUrl ? `<p class="muted">No account? <a href="${escapeHtml(ctx.signupUrl)}">Create one</a>.</p>` : '';
  // A form (not a link): starting an external sign-in is a step of this interaction, CSRF-checked like the others.
  const external = (ctx.providers ?? [])
    .map((p) => `<form method="post" action="/oauth/external/start">${hidden({ interaction: ctx.interaction, csrf: ctx.csrf })}<button type="submit" name="provider" value="${escapeHtml(p.name)}" class="secondary">Sign in with ${escapeHtml(p.displayName)}</button></form>`)
    .join('');
  const others = external ? `<p class="muted">Or use your password:</p>` : '';
  return `<h1>Sign in</h1><p><strong>${escapeHtml(ctx.clientName)}</strong> wants to use your Gatehouse account.</p>${errorBox(ctx.error)}${external}${others}
<form method="post" action="/oauth/login">${hidden({ interaction: ctx.interaction, csrf: ctx.csrf })}
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required value="${escapeHtml(ctx.username ?? '')}">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>${signup}`;
}

/** The second step of a sign-in for a user with two-factor sign-in: the code from their app. */
export function codePage(ctx: FormContext & { username: string; error?: string }): string {
  return `<h1>Enter your code</h1><p>Signing in as <strong>${escapeHtml(ctx.username)}</strong> for <strong>${escapeHtml(ctx.clientName)}</strong>.</p>${errorBox(ctx.error)}
<form method="post" action="/oauth/login/code">${hidden({ interaction: ctx.interaction, csrf: ctx.csrf })}
<label for="code">Code from your authenticator app</label><input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required autofocus>
<button type="submit">Continue</button></form>`;
}

export function signupPage(ctx: FormContext & { error?: string; username?: string }): string {
  return `<h1>Create an account</h1><p>Then continue to <strong>${escapeHtml(ctx.clientName)}</strong>.</p>${errorBox(ctx.error)}
<form method="post" action="/oauth/signup">${hidden({ interaction: ctx.interaction, csrf: ctx.csrf })}
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required value="${escapeHtml(ctx.username ?? '')}">
<label for="password">Password (at least 8 characters)</label><input type="password" id="password" name="password" autocomplete="new-password" required minlength="8">
<button type="submit">Create account</button></form>`;
}

export function consentPage(ctx: FormContext & { clientId: string; redirectUri: string; scopes: readonly string[]; resource: string; username: string; connect?: readonly string[] }): string {
  const scopes = ctx.scopes.length > 0 ? ctx.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('') : '<li>(no scopes)</li>';
  const servers = ctx.connect ?? [];
  const connect =
    servers.length === 0
      ? ''
      : `<p class="connect">If you allow, you will first connect your account${servers.length > 1 ? 's' : ''} at ${servers.map((s) => `<strong>${escapeHtml(s)}</strong>`).join(', ')}: ${servers.length > 1 ? 'these servers act' : 'this server acts'} as you, and Gatehouse keeps the token${servers.length > 1 ? 's' : ''} for your calls.</p>`;
  return `<h1>Allow access?</h1>
<p><strong>${escapeHtml(ctx.clientName)}</strong> asks to act as <strong>${escapeHtml(ctx.username)}</strong> on <code>${escapeHtml(ctx.resource)}</code>.</p>
<p class="muted">Client id: <code>${escapeHtml(ctx.clientId)}</code>. The application names itself: allow only if you started this and the address below is what you expect.</p>
<p>After you answer, you will be sent to:<br><code>${escapeHtml(ctx.redirectUri)}</code></p>
<p>Permissions asked for:</p><ul>${scopes}</ul>${connect}
<form method="post" action="/oauth/consent">${hidden({ interaction: ctx.interaction, csrf: ctx.csrf })}
<button type="submit" name="decision" value="approve">Allow</button><button type="submit" name="decision" value="deny" class="secondary">Deny</button></form>`;
}
