// Serves a folder of built files (the dashboard, built by web/vite.config.ts into dist/web) on the
// admin listener: GET and HEAD only, never outside the folder, index.html for folders and for
// client-side routes (paths without a file extension), long caching for content-hashed assets
// under /assets/.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouteHandler } from '../http/routes.ts';

/** dist/web of the package: the same path from src/admin (tsx) and from dist/admin (built). */
export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'web');

/** Whether the dashboard was built (dist/web/index.html exists). */
export function dashboardBuilt(root = DASHBOARD_DIR): boolean {
  return existsSync(path.join(root, 'index.html'));
}

/** The dashboard's files. */
export function serveDashboard(root = DASHBOARD_DIR): RouteHandler {
  return staticFiles(root);
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** Same-origin scripts and styles only: the dashboard makes no external requests. */
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function staticFiles(root: string): RouteHandler {
  const base = path.resolve(root);
  return async (req, res, urlPath) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD' });
    let relative: string;
    try {
      relative = decodeURIComponent(urlPath);
    } catch {
      return plain(res, 400, 'Bad Request');
    }
    if (relative.includes('\0')) return plain(res, 400, 'Bad Request');
    let file = path.resolve(base, '.' + path.posix.normalize('/' + relative));
    if (file !== base && !file.startsWith(base + path.sep)) return plain(res, 404, 'Not Found');
    let info = await stat(file).catch(() => undefined);
    if (info?.isDirectory()) {
      file = path.join(file, 'index.html');
      info = await stat(file).catch(() => undefined);
    } else if (!info && path.extname(file) === '') {
      // A client-side route (e.g. /logs/123): the app's page, which routes it.
      file = path.join(base, 'index.html');
      info = await stat(file).catch(() => undefined);
    }
    if (!info?.isFile()) return plain(res, 404, 'Not Found');
    send(req, res, file, info.size, urlPath.startsWith('/assets/'));
  };
}

function send(req: IncomingMessage, res: ServerResponse, file: string, size: number, hashed: boolean): void {
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const headers: Record<string, string | number> = {
    'content-type': type,
    'content-length': size,
    'x-content-type-options': 'nosniff',
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (type.startsWith('text/html')) {
    headers['content-security-policy'] = PAGE_POLICY;
    headers['x-frame-options'] = 'DENY';
    // same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on the
    // dashboard's own form POSTs (sign-out), which the Origin check then refuses.
    headers['referrer-policy'] = 'same-origin';
  }
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.once('error', () => res.destroy());
  stream.pipe(res);
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
