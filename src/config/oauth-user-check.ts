// Cross-checks of servers with a per-caller `auth` (`oauth-user`, `token-exchange`): the token is
// chosen from the caller of each request. So such a server has no `credential` besides and no
// shared list cache (one user's list would serve another). A federated API or virtual server may
// include it when a member that has not got the user's token yet can be left out while the others
// keep working (`onUpstreamFailure: omit`, the default) and calls to it can still be placed on it
// without its list (a virtual server's selection, or tool and prompt names under `namespace.prefix:
// always`, the default), so that such a call is what prompts the user. A token exchange's actor
// key must be a usable private key, its keyId its own.
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
    const members = new Set([...(api.servers ?? []), ...(api.tools ?? []).map((t) => t.server), ...(api.prompts ?? []).map((p) => p.server), ...(api.resources ?? []).map((r) => r.server)]);
    const perUserMembers = [...members].filter((server) => perUser.has(server));
    if (perUserMembers.length === 0) return;
    const named = perUserMembers.map((server) => `"${server}" (${perUser.get(server)})`).join(', ');
    if (api.onUpstreamFailure === 'fail') {
      problems.push({ path: ['apis', index, 'onUpstreamFailure'], message: `expected omit: server ${named} is left out of a session until its user connects it, which \`fail\` would turn into a failure of every request` });
    }
    const virtual = api.tools !== undefined || api.prompts !== undefined || api.resources !== undefined;
    if (!virtual && api.namespace !== undefined && api.namespace.prefix !== 'always') {
      problems.push({ path: ['apis', index, 'namespace', 'prefix'], message: `expected always: a call to server ${named} must be placed on it by its name's prefix before its user has connected it (its tools are listed only once they have)` });
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
