// Agents declared in the config file are written to the store when the config loads and on each
// reload, so that keys given in the file (by ${env:…} reference or by digest) work like keys
// made with `gatehouse keys create`. Key ids of config keys come from the digest (`cfg_<12 hex>`),
// the same on every node and every restart. A config key that leaves the file is revoked; one that
// was revoked with the CLI stays revoked even if it is still in the file (a leaked key must not
// come back on restart). Agents disabled with the CLI stay disabled.
import type { ConfigData } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { StoreConstraintError } from '../store/errors.ts';
import { digestKey, keyPrefix } from './api-key.ts';

export interface ConfigKey {
  readonly id: string;
  readonly agentId: string;
  readonly digest: string;
  readonly prefix: string;
  readonly api: string | undefined;
  readonly expiresAt: number | undefined;
}

export function configKeyId(digest: string): string {
  return `cfg_${digest.slice(0, 12)}`;
}

/** The keys the config declares, by key id. */
export function configKeys(agents: ConfigData['agents']): Map<string, ConfigKey> {
  const out = new Map<string, ConfigKey>();
  for (const agent of agents) {
    for (const ref of agent.apiKeys) {
      const digest = 'value' in ref ? digestKey(ref.value) : ref.sha256.toLowerCase();
      const id = configKeyId(digest);
      const prefix = 'value' in ref ? keyPrefix(ref.value) : `sha256:${digest.slice(0, 8)}`;
      const expiresAt = ref.expires === undefined ? undefined : Date.parse(ref.expires);
      out.set(id, { id, agentId: agent.id, digest, prefix, api: ref.api, expiresAt });
    }
  }
  return out;
}

export interface SyncResult {
  agents: number;
  created: number;
  revoked: number;
}

export async function syncConfigAgents(store: Store, agents: ConfigData['agents'], log: Logger, now = Date.now()): Promise<SyncResult> {
  const result: SyncResult = { agents: 0, created: 0, revoked: 0 };
  for (const agent of agents) {
    const existing = await store.getAgent(agent.id);
    await store.upsertAgent({
      id: agent.id,
      name: agent.name,
      labels: agent.labels,
      tenant: agent.tenant,
      createdAt: existing?.createdAt ?? now,
      disabled: existing?.disabled ?? false,
    });
    result.agents++;
  }
  const declared = configKeys(agents);
  for (const key of declared.values()) {
    const found = await store.findApiKeyByHash(key.digest);
    if (!found) {
      try {
        await store.createApiKey({
          id: key.id,
          agentId: key.agentId,
          hash: key.digest,
          prefix: key.prefix,
          api: key.api,
          createdAt: now,
          expiresAt: key.expiresAt,
          revokedAt: undefined,
          lastUsedAt: undefined,
        });
        result.created++;
      } catch (error) {
        // Another node synced the same file at the same moment.
        if (!(error instanceof StoreConstraintError && error.reason === 'duplicate')) throw error;
      }
    } else if (found.id !== key.id || found.agentId !== key.agentId) {
      log.error({ keyId: found.id, agent: found.agentId, declaredFor: key.agentId }, 'a key declared in the config is already registered to another key id or agent; it is not accepted for the declared agent');
    } else if (found.revokedAt !== undefined) {
      log.warn({ keyId: key.id, agent: key.agentId }, 'a key declared in the config was revoked; it stays refused (remove it from the config)');
    }
  }
  for (const key of await store.listApiKeys()) {
    if (!key.id.startsWith('cfg_') || declared.has(key.id) || key.revokedAt !== undefined) continue;
    await store.revokeApiKey(key.id, now);
    result.revoked++;
    log.info({ keyId: key.id, agent: key.agentId }, 'API key removed from the config: revoked');
  }
  return result;
}
