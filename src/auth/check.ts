// Checks of the authentication config that the schema alone cannot express: references between
// agents, keys and APIs, and plan combinations that would be unsafe or could not work. Run when
// the config is validated, so that each problem is reported with its file, field and line.
import { createPublicKey } from 'node:crypto';
import type { ConfigData } from '../config/schema.ts';
import { digestKey } from './api-key.ts';
import { compileOriginPolicy, isLoopbackHost } from '../http/guards.ts';

export interface AuthProblem {
  path: PropertyKey[];
  message: string;
}

const MIN_HMAC_SECRET_BYTES = 32;

export function checkAuthConfig(config: ConfigData): AuthProblem[] {
  return [...checkAgents(config), ...checkPlans(config), ...checkPublicUrl(config)];
}

/**
 * OAuth metadata and challenges name URLs: the resource, the metadata URL, the issuer and its
 * endpoints. Without publicUrl they are built from the request's Host (or X-Forwarded-Host), which
 * must then be checked against a list, or anyone could have Gatehouse name their host: cached
 * metadata pointing elsewhere, tokens minted for an audience of the caller's choosing. A listener
 * that accepts other machines checks the Host only when told which names are its own, so such a
 * config must say: publicUrl, or security.allowedHosts (as a production identity server refuses
 * to start without its hostname).
 */
function checkPublicUrl(config: ConfigData): AuthProblem[] {
  if (config.publicUrl !== undefined) return [];
  const plans = config.apis.flatMap((api) => (Array.isArray(api.auth) ? api.auth : [api.auth]).map((plan) => ({ api, plan })));
  const needy = plans.filter(({ plan }) => plan.type === 'oauth2' || plan.type === 'passthrough');
  const authServer = config.authorizationServer !== undefined || needy.some(({ plan }) => plan.type === 'oauth2' && plan.issuer === undefined);
  const unchecked = (apiOrigins: string[] | undefined) => !compileOriginPolicy(config.listen.host, config.security, apiOrigins).enabled;
  const names = [...new Set(needy.filter(({ api }) => unchecked(api.allowedOrigins)).map(({ api }) => api.name))];
  if (authServer && unchecked(undefined) && names.length === 0) names.push('the authorization server');
  if (names.length === 0) return [];
  const why = config.security.dnsRebindingProtection === false ? 'security.dnsRebindingProtection is off' : `listen.host ${config.listen.host} accepts connections from other machines and security.allowedHosts is not set`;
  return [
    {
      path: ['publicUrl'],
      message: `expected publicUrl (the URL clients use, e.g. https://mcp.example.com) or security.allowedHosts: ${names.join(', ')} publish OAuth URLs built from the request's Host, and ${why}, so any Host would be echoed into them`,
    },
  ];
}

function checkAgents(config: ConfigData): AuthProblem[] {
  const problems: AuthProblem[] = [];
  const apiNames = config.apis.map((a) => a.name);
  const ids = new Map<string, number>();
  const digests = new Map<string, string>();
  config.agents.forEach((agent, a) => {
    const same = ids.get(agent.id);
    if (same !== undefined) problems.push({ path: ['agents', a, 'id'], message: `duplicate agent id "${agent.id}" (also agents[${same}])` });
    ids.set(agent.id, a);
    agent.apiKeys.forEach((ref, k) => {
      const at = ['agents', a, 'apiKeys', k];
      const digest = 'value' in ref ? digestKey(ref.value) : ref.sha256.toLowerCase();
      const where = `agents[${a}].apiKeys[${k}]`;
      const first = digests.get(digest);
      if (first !== undefined) problems.push({ path: at, message: `the same key is declared twice (also ${first}); each key belongs to one agent` });
      else digests.set(digest, where);
      if (ref.api !== undefined && !apiNames.includes(ref.api)) {
        problems.push({ path: [...at, 'api'], message: `no API named "${ref.api}"; expected one of ${apiNames.join(', ')}` });
      }
      if (ref.expires !== undefined && Number.isNaN(Date.parse(ref.expires))) {
        problems.push({ path: [...at, 'expires'], message: `expected an ISO date or date-time such as 2027-01-31 or 2027-01-31T12:00:00Z; got "${ref.expires}"` });
      }
    });
  });
  return problems;
}

function checkPlans(config: ConfigData): AuthProblem[] {
  const problems: AuthProblem[] = [];
  config.apis.forEach((api, a) => {
    const list = Array.isArray(api.auth) ? api.auth : [api.auth];
    list.forEach((plan, p) => {
      const at: PropertyKey[] = Array.isArray(api.auth) ? ['apis', a, 'auth', p] : ['apis', a, 'auth'];
      if (plan.type === 'keyless' && !isLoopbackHost(config.listen.host) && config.security.allowAnonymousOnPublicListener !== true) {
        problems.push({
          path: at,
          message: `keyless (anyone may call) on a listener open to other machines (listen.host ${config.listen.host}); require a credential (auth: api-key, jwt or oauth2), listen on 127.0.0.1, or, when a proxy in front decides who gets through, set security.allowAnonymousOnPublicListener: true`,
        });
      }
      if (plan.type === 'passthrough') {
        if (list.length > 1) problems.push({ path: at, message: 'passthrough forwards the client\'s token to the upstream and cannot be combined with other plans; make it the only plan of this API' });
        const server = api.server === undefined ? undefined : config.servers[api.server];
        if (api.server === undefined) problems.push({ path: at, message: 'passthrough forwards the client\'s token to one upstream that does its own OAuth; an API of several servers cannot use it' });
        else if (server && !('url' in server)) problems.push({ path: at, message: `passthrough needs a Streamable HTTP server (\`url\`); server "${api.server}" is not one` });
      }
      if (plan.type === 'jwt') {
        const hmac = plan.algorithms?.filter((alg) => alg.startsWith('HS')) ?? [];
        const asymmetric = plan.algorithms?.filter((alg) => !alg.startsWith('HS')) ?? [];
        if (plan.secret !== undefined) {
          if (Buffer.byteLength(plan.secret) < MIN_HMAC_SECRET_BYTES) problems.push({ path: [...at, 'secret'], message: `expected an HMAC secret of at least ${MIN_HMAC_SECRET_BYTES} bytes` });
          if (asymmetric.length > 0) problems.push({ path: [...at, 'algorithms'], message: `a secret verifies HS256/HS384/HS512 only; remove ${asymmetric.join(', ')}` });
        } else if (hmac.length > 0) {
          problems.push({ path: [...at, 'algorithms'], message: `${hmac.join(', ')} need a shared secret; with a public key or JWKS they would let anyone holding the public key sign tokens` });
        }
        if (plan.publicKey !== undefined) {
          try {
            createPublicKey(plan.publicKey);
          } catch {
            problems.push({ path: [...at, 'publicKey'], message: 'expected a PEM public key (-----BEGIN PUBLIC KEY-----)' });
          }
        }
      }
      if (plan.type === 'oauth2') {
        if (plan.issuer === undefined && plan.introspection !== undefined) problems.push({ path: [...at, 'introspection'], message: 'introspection needs `issuer` (the external authorization server)' });
        if (plan.issuer === undefined && plan.jwksUrl !== undefined) problems.push({ path: [...at, 'jwksUrl'], message: 'jwksUrl needs `issuer` (the external authorization server)' });
        if (plan.issuer !== undefined && !isHttpUrl(plan.issuer)) problems.push({ path: [...at, 'issuer'], message: 'expected the issuer as an absolute http:// or https:// URL' });
      }
    });
  });
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
