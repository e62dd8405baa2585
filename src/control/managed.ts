// Starting a gateway in managed mode: node settings (a node file, or none) + the newest deployed
// version in the store → the first snapshot; then the control plane is attached, and serves
// the management API and follows later versions.
import type { Logger } from '../log.ts';
import { startGateway, type Gateway } from '../gateway.ts';
import { dataPaths } from '../data-paths.ts';
import { openControlStore } from '../store/control-open.ts';
import { CredentialVault } from '../credentials/vault.ts';
import { credentialsKeySource } from '../credentials/key.ts';
import { emptyDocument, snapshotConfig } from './document.ts';
import { auditEventOfConfigChange } from '../audit/config-events.ts';
import { ControlPlane } from './plane.ts';

export interface ManagedOptions {
  /** Node settings (validated with NodeConfig; `{}` for every default). */
  node: Record<string, unknown>;
  /** The node file they came from (messages, and the default data directory beside it). */
  nodeFile?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  dataDir?: string;
  /** How often to look for a version deployed elsewhere (ms; 0: never). Default 1000. */
  pollMs?: number;
}

export async function startManagedGateway(options: ManagedOptions): Promise<Gateway> {
  const env = options.env ?? process.env;
  const label = options.nodeFile ?? '(node settings)';
  const base = snapshotConfig(options.node, emptyDocument(), label, env);
  const { store: spec } = dataPaths(base, options.nodeFile, env, options.dataDir);
  const control = await openControlStore(spec);
  try {
    const latest = await control.latestVersion();
    const document = latest === undefined ? emptyDocument() : (await control.getVersion(latest))!.document;
    const config = snapshotConfig(options.node, document, latest === undefined ? label : `version ${latest} (store)`, env);
    return await startGateway({
      config,
      validated: true,
      configPath: options.nodeFile,
      logger: options.logger,
      env,
      dataDir: options.dataDir,
      control: (gateway, context) =>
        new ControlPlane(
          control,
          options.node,
          env,
          {
            reload: (next) => gateway.reload(next),
            store: gateway.store,
            vault: new CredentialVault(gateway.store, credentialsKeySource(context.dataDir), context.env),
            log: gateway.log,
            mcpBase: () => gateway.baseUrl(),
            recordChange: (change) => gateway.audit?.record(auditEventOfConfigChange(change)),
            toolApproved: (server, tool) => gateway.pinning.refreshOne(server, tool),
            connections: gateway.credentialConnections(),
            grants: () => gateway.userGrants(),
            fileAdmins: () => gateway.config.admin.users,
          },
          latest,
          options.pollMs ?? 1000,
        ),
    });
  } catch (error) {
    await control.close().catch(() => undefined);
    throw error;
  }
}
