// /-/token-exchange/jwks.json: the public keys of the actor tokens Gatehouse signs (every
// `actor: { type: jwt }` of a token-exchange server), so that an authorization server can be told a
// URL to fetch them from rather than be given each key by hand (and pick up a rotation by itself).
// Built once per config; only public members are published.
import { createPublicKey } from 'node:crypto';
import type { ConfigData } from '../../config/schema.ts';
import type { RouteHandler } from '../../http/routes.ts';
import { algorithmFor } from './actor-token.ts';

export const ACTOR_JWKS_PATH = '/-/token-exchange/jwks.json';

/** The route, or undefined when no server signs actor tokens. */
export function actorJwksRoute(config: ConfigData): [string, RouteHandler] | undefined {
  const keys = new Map<string, Record<string, unknown>>();
  for (const server of Object.values(config.servers)) {
    if (!('url' in server) || server.auth?.type !== 'token-exchange' || server.auth.actor.type !== 'jwt') continue;
    const actor = server.auth.actor;
    const publicKey = createPublicKey(actor.privateKey);
    // export() of a public key object holds only public members (no `d`, `p`, `q`, …).
    const jwk = { ...publicKey.export({ format: 'jwk' }), alg: algorithmFor(publicKey), use: 'sig', ...(actor.keyId !== undefined && { kid: actor.keyId }) };
    keys.set(JSON.stringify(jwk), jwk);
  }
  if (keys.size === 0) return undefined;
  const body = JSON.stringify({ keys: [...keys.values()] });
  return [
    ACTOR_JWKS_PATH,
    (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'content-length': Buffer.byteLength(body), 'cache-control': 'max-age=300' });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  ];
}
