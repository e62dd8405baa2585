// Cross-checks of servers with a per-caller `auth` (`oauth-user`, `token-exchange`): the token is
// chosen from the caller of each request, which the direct Streamable HTTP connector and the
// 2026-07-28 bridge (its sessions send for their caller) know, and a federated API's member
// sessions do not yet. So such a server has no `credential` besides, no shared list cache (one
// user's list would serve another), and is reached by APIs that name it alone (`server:`), not
// through a federated API or virtual server. A token exchange's actor key must be a usable
// private key, its keyId its own.
import { createPrivateKey } from 'node:crypto';
import type { ConfigData } from './schema.ts';

/** How each per-caller kind is named in a problem. */
const KIND = { 'oauth-user': 'per-user OAuth (auth: oauth-user)', 'token-exchange': 'token exchange (auth: token-exchange)' } as const;

interface PathProblem {
  path: PropertyKey[];
  message: string;
}

export function checkOAuthUserServers(config: ConfigData): PathProblem[] {
  const problems: PathProblem[] = [];
  const perUser = new Map<string, string>();
  /** Actor keys by kid: the published JWKS must not name two keys alike. */
  const actorKids = new Map<string, string>();
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('url' in server) || server.auth === undefined) continue;
    const type = server.auth.type;
    perUser.set(name, KIND[type]);
    if (server.credential !== undefined) {
      problems.push({ path: ['servers', name, 'credential'], message: `a server with \`auth: { type: ${type} }\` sends each user's own token; remove \`credential\` (or \`auth\`)` });
    }
    if (server.listCache?.enabled) {
      problems.push({ path: ['servers', name, 'listCache', 'enabled'], message: `expected false: lists seen with one user's token must not be served to another (${type})` });
    }
    if (server.auth.type === 'token-exchange' && server.auth.actor.type === 'jwt' && !isPrivateKey(server.auth.actor.privateKey)) {
      problems.push({ path: ['servers', name, 'auth', 'actor', 'privateKey'], message: 'expected a PEM private key (RSA, EC or Ed25519; PKCS#8, PKCS#1 or SEC1)' });
    }
    if (server.auth.type === 'token-exchange' && server.auth.actor.type === 'jwt' && server.auth.actor.keyId !== undefined) {
      const { keyId, privateKey } = server.auth.actor;
      const seen = actorKids.get(keyId);
      if (seen !== undefined && seen !== privateKey.trim()) {
        problems.push({ path: ['servers', name, 'auth', 'actor', 'keyId'], message: `expected a keyId of its own: "${keyId}" names another server's actor key (both are published at /-/token-exchange/jwks.json)` });
      }
      actorKids.set(keyId, privateKey.trim());
    }
  }
  if (perUser.size === 0) return problems;
  config.apis.forEach((api, index) => {
    const refs: Array<[string, PropertyKey[]]> = [
      ...(api.servers ?? []).map((s, i): [string, PropertyKey[]] => [s, ['apis', index, 'servers', i]]),
      ...(api.tools ?? []).map((t, i): [string, PropertyKey[]] => [t.server, ['apis', index, 'tools', i, 'server']]),
      ...(api.prompts ?? []).map((p, i): [string, PropertyKey[]] => [p.server, ['apis', index, 'prompts', i, 'server']]),
      ...(api.resources ?? []).map((r, i): [string, PropertyKey[]] => [r.server, ['apis', index, 'resources', i, 'server']]),
    ];
    for (const [server, path] of refs) {
      const kind = perUser.get(server);
      if (kind !== undefined) {
        problems.push({ path, message: `server "${server}" uses ${kind}, which is served only to an API that names it alone (\`server: ${server}\`), not through a federated API or virtual server yet` });
      }
    }
  });
  return problems;
}

function isPrivateKey(pem: string): boolean {
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss' || key.asymmetricKeyType === 'ec' || key.asymmetricKeyType === 'ed25519';
  } catch {
    return false;
  }
}
