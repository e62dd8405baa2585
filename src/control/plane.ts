// The control plane of a managed gateway: the store's draft and versions (Deployments), the
// management API over them, and the watch that keeps the data plane on the newest version. A
// deploy through this node applies at once; one made elsewhere (`gatehouse apply` on the store,
// another node) is found by polling the newest version number, off the request path. The data
// plane only ever receives a validated config to swap in (Gateway.reload), as a file reload does.
import type { ConfigData } from '../config/schema.ts';
import type { UserConnections } from '../credentials/oauth-user/connections.ts';
import type { UserGrants } from '../authserver/grants.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { ControlStore } from '../store/control.ts';
import type { CredentialVault } from '../credentials/vault.ts';
import { Deployments } from './deployments.ts';
import { managementApi, type ManagementHandler } from './api.ts';
import { openApiDocument } from './openapi.ts';
import type { ConfigChange } from '../audit/config-events.ts';
import type { AdminUserEntry } from '../admin/admin-users.ts';

export interface DataPlane {
  reload(config: ConfigData): void;
  readonly store: Store;
  readonly vault: CredentialVault;
  readonly log: Logger;
  mcpBase(): string | undefined;
  /** Records a configuration change in the audit log (absent when the audit log is off). */
  readonly recordChange?: ((change: ConfigChange) => void) | undefined;
  /** A tool definition was approved through this node: apply it here at once (other nodes poll). */
  readonly toolApproved?: ((server: string, tool: string) => Promise<void>) | undefined;
  /** Users' connections to per-user upstream servers (auth: oauth-user). */
  readonly connections?: UserConnections | undefined;
  /** Users' grants at the embedded authorization server. */
  readonly grants?: (() => UserGrants) | undefined;
  /** The node file's admin.users (listed read-only beside the stored admin users). */
  readonly fileAdmins?: (() => readonly AdminUserEntry[]) | undefined;
}

export class ControlPlane {
  readonly deployments: Deployments;
  readonly handle: ManagementHandler;
  /** API tokens of the admin listener are looked up here (AdminAuth). */
  readonly adminTokens = (id: string) => this.store.getAdminToken(id);
  /** Admin users kept in the store (/api/v1/admins) are looked up here, on every request of theirs (AdminAuth). */
  readonly adminUsers = (username: string) => this.store.getAdminUser(username);
  /** The version the data plane serves (undefined: nothing deployed yet). */
  served: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private readonly unwatch: (() => Promise<void>) | undefined;

  constructor(
    readonly store: ControlStore,
    node: Record<string, unknown>,
    env: NodeJS.ProcessEnv,
    private readonly plane: DataPlane,
    served: number | undefined,
    pollMs: number,
  ) {
    this.served = served;
    this.deployments = new Deployments(store, node, env, (version, config) => this.apply(version, config), plane.recordChange);
    // The same document as the published schema/openapi.json.
    const openapi = openApiDocument('v1');
    this.handle = managementApi({ deployments: this.deployments, store: plane.store, vault: plane.vault, log: plane.log, openapi: () => openapi, mcpBase: () => plane.mcpBase(), onChange: plane.recordChange, toolApproved: plane.toolApproved, connections: plane.connections, grants: plane.grants, fileAdmins: plane.fileAdmins });
    if (pollMs > 0) this.timer = setInterval(() => void this.poll(), pollMs).unref();
    // A deploy announced by the store (Postgres) is looked for at once; the poll is the fallback.
    this.unwatch = store.watch?.((version) => {
      if (this.served === undefined || version > this.served) void this.poll();
    }, plane.log);
  }

  private apply(version: number, config: ConfigData): void {
    // Two deploys racing on this node: never go back to an older version.
    if (this.served !== undefined && version <= this.served) return;
    this.plane.reload(config);
    this.served = version;
    this.plane.log.info({ version }, 'deployed configuration version is live');
  }

  /** Looks for a newer version (a deploy made by another process or node) and applies it. */
  poll(): Promise<void> {
    this.polling = this.polling.then(async () => {
      try {
        const latest = await this.store.latestVersion();
        if (latest === undefined || (this.served !== undefined && latest <= this.served)) return;
        const version = await this.store.getVersion(latest);
        if (!version) return;
        this.apply(latest, this.deployments.snapshot(version.document, `version ${latest}`));
      } catch (error) {
        this.plane.log.error({ err: (error as Error).message }, 'could not apply the newest deployed version; the running configuration stays in force');
      }
    });
    return this.polling;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.unwatch?.();
    await this.polling;
    await this.store.close();
  }
}
