// Client authentication at the token and revocation endpoints, run before the SDK's handlers:
// accepts client_secret_basic (RFC 6749 §2.3.1) and client_secret_post, checks a confidential
// client's secret against its stored digest in constant time, and hands the SDK's handler a body
// with the client_id only. Public clients (method "none") send their client_id alone.
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { ClientRegistry } from './clients.ts';
import { sha256 } from './clients.ts';
import { headerCount } from '../http/guards.ts';
import { ADMIN_CLIENT_ID } from './admin-client.ts';

function refuse(res: Response, status: number, error: string, description: string, basic: boolean): void {
  res.setHeader('Cache-Control', 'no-store');
  if (basic) res.setHeader('WWW-Authenticate', 'Basic realm="gatehouse", charset="UTF-8"');
  res.status(status).json({ error, error_description: description });
}

function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  try {
    // Both parts are form-urlencoded before base64 (RFC 6749 §2.3.1).
    const form = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: form(decoded.slice(0, colon)), secret: form(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

export function clientAuthentication(clients: ClientRegistry): RequestHandler {
  return async (req, res, next) => {
    try {
      const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
      const header = req.headers.authorization;
      let id = typeof body.client_id === 'string' ? body.client_id : undefined;
      let secret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
      const basic = header !== undefined;
      if (basic && headerCount(req, 'authorization') > 1) return refuse(res, 400, 'invalid_request', 'the Authorization header must be sent once', false);
      if (basic) {
        const credentials = decodeBasic(header);
        if (!credentials) return refuse(res, 401, 'invalid_client', 'malformed Basic credentials', true);
        if (secret !== undefined || (id !== undefined && id !== credentials.id)) {
          return refuse(res, 400, 'invalid_request', 'use one client authentication method, not several', true);
        }
        ({ id, secret } = credentials);
      }
      if (id === undefined) return refuse(res, 400, 'invalid_request', 'client_id is required', false);
      // The admin listener exchanges its codes in-process: its client has no business here.
      if (id === ADMIN_CLIENT_ID) return refuse(res, 401, 'invalid_client', 'the admin listener\'s client is not served at this endpoint', basic);
      const found = await clients.lookup(id);
      if ('error' in found) return refuse(res, 401, 'invalid_client', found.error, basic);
      if (found.secretHash !== undefined) {
        if (secret === undefined) return refuse(res, 401, 'invalid_client', 'this client must authenticate with its client_secret', basic);
        const ok = timingSafeEqual(Buffer.from(sha256(secret), 'hex'), Buffer.from(found.secretHash, 'hex'));
        if (!ok) return refuse(res, 401, 'invalid_client', 'wrong client_secret', basic);
      }
      // For handlers that need more than the id (external/identity-assertion.ts: is it confidential?).
      res.locals.client = found;
      req.body = { ...body, client_id: id };
      delete (req.body as Record<string, unknown>).client_secret;
      next();
    } catch (error) {
      next(error);
    }
  };
}
