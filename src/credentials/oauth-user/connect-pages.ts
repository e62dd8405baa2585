// The pages a user sees around connecting an upstream account: done, and what went wrong.
// Small, self-contained HTML (no scripts), every value escaped, never cached or framed.
import type { ServerResponse } from 'node:http';
import { escapeHtml } from '../../authserver/pages.ts';

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;display:flex;justify-content:center}' +
  'main{background:#fff;margin:3rem 1rem;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:30rem;width:100%}' +
  'h1{font-size:1.3rem;margin:0 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}code{word-break:break-all}.notice{background:#e6f4ea;color:#1e5631;padding:.6rem;border-radius:4px}.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}.muted{color:#5b6475;font-size:.9rem}' +
  'table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #e3e6eb}button{font:inherit}';

export function sendHtml(res: ServerResponse, status: number, title: string, body: string, extraHeaders: Record<string, string | string[]> = {}): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · Gatehouse</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    // No form-action: the sign-in form of a connect link is answered with a redirect that goes on
    // to the upstream's authorization server (and whatever origins it signs people in through),
    // and browsers hold every hop of a form's redirects to form-action. The forms post only here.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // The callback URL carries the code: never send it on as a Referer to another site. Not
    // no-referrer: under it browsers send `Origin: null` on the pages' own form posts, which
    // Gatehouse's Origin check refuses.
    'referrer-policy': 'same-origin',
    ...extraHeaders,
  });
  res.end(html);
}

export function sendConnectError(res: ServerResponse, status: number, title: string, message: string): void {
  sendHtml(res, status, title, `<h1>${escapeHtml(title)}</h1><p class="error">${escapeHtml(message)}</p><p class="muted">You can close this window and retry from your agent.</p>`);
}

export function sendConnected(res: ServerResponse, server: string): void {
  sendHtml(res, 200, 'Connected', `<h1>Connected</h1><p>Your account at <b>${escapeHtml(server)}</b> is connected. Gatehouse keeps its token and sends it only on your calls to that server.</p><p class="muted">You can close this window and retry the call in your agent.</p>`);
}
