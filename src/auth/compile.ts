// Builds an API's authentication plans from its config, once per load.
import type { ApiData, ConfigData } from '../config/schema.ts';
import { ConfigError } from '../config/errors.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../log.ts';
import type { AuthPlan } from './plan.ts';
import { keylessPlan } from './keyless.ts';
import { apiKeyPlan } from './api-key.ts';
import { configKeys, type ConfigKey } from './agents-sync.ts';
import { jwtPlan } from './jwt.ts';
import { oauth2Plan, type EmbeddedIssuer } from './oauth2.ts';
import { passthroughPlan } from './passthrough.ts';
import { tenancyEnforced } from '../config/tenant-check.ts';
import { tenantOf } from '../config/tenant-schema.ts';

/** What plans may use: the store (agents, keys), the embedded issuer, the logger. */
export interface AuthDeps {
  readonly store: Store;
  readonly log: Logger;
  /**
   * The embedded authorization server (src/authserver), filled in by the gateway: its issuer URL
   * and the keys that verify its access tokens. `oauth2` plans without `issuer` use it; without
   * it they are a config error.
   */
  readonly embeddedIssuer?: EmbeddedIssuer | undefined;
  /** Config file name, for error messages. */
  readonly configFile?: string | undefined;
}

/** Plans that read `Authorization: Bearer`: an unrecognised token is left to a later one of these. */
const BEARER_PLANS = new Set(['api-key', 'jwt', 'oauth2']);

// Digests of the config's keys, computed once per loaded config rather than once per API.
const keysByConfig = new WeakMap<ConfigData['agents'], Map<string, ConfigKey>>();

export function compileAuthPlans(auth: ApiData['auth'], deps: AuthDeps, api: ApiData, config: ConfigData): AuthPlan[] {
  const list = Array.isArray(auth) ? auth : [auth];
  const index = config.apis.indexOf(api);
  const tenant = tenancyEnforced(config) ? tenantOf(api) : undefined;
  return list.map((plan, position): AuthPlan => {
    const laterReadsBearer = list.slice(position + 1).some((p) => BEARER_PLANS.has(p.type));
    switch (plan.type) {
      case 'keyless':
        return keylessPlan;
      case 'api-key': {
        let keys = keysByConfig.get(config.agents);
        if (!keys) keysByConfig.set(config.agents, (keys = configKeys(config.agents)));
        return apiKeyPlan(deps.store, { header: plan.header?.toLowerCase(), yieldUnknownBearer: laterReadsBearer, configKeys: keys, tenant }, deps.log);
      }
      case 'jwt':
        return jwtPlan(plan, {
          yieldForeign: laterReadsBearer,
          log: deps.log,
          tenant: tenant === undefined ? undefined : { id: tenant, foreignAgents: new Set(config.agents.filter((a) => tenantOf(a) !== tenant).map((a) => a.id)) },
        });
      case 'oauth2':
        if (plan.issuer === undefined && !deps.embeddedIssuer) {
          const field = `apis[${index}].auth${Array.isArray(auth) ? `[${position}]` : ''}.issuer`;
          throw new ConfigError(deps.configFile ?? '(inline config)', [
            { field, message: 'oauth2 without issuer needs the embedded authorization server; set `issuer` to your authorization server' },
          ]);
        }
        return oauth2Plan(plan, { apiName: api.name, embedded: deps.embeddedIssuer, yieldForeign: laterReadsBearer, log: deps.log, tenant });
      case 'passthrough': {
        const server = api.server === undefined ? undefined : config.servers[api.server];
        // check.ts refuses other server kinds when the config is validated.
        if (!server || !('url' in server)) throw new Error(`passthrough API "${api.name}" needs a Streamable HTTP server`);
        return passthroughPlan({ apiName: api.name, upstreamUrl: server.url });
      }
    }
  });
}
