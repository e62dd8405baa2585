// The node registry: each node writes its id and the URL other nodes reach it at into the shared
// store (`cluster_nodes`) every heartbeatInterval, and reads back the nodes seen within
// nodeTimeout. A node that stops heartbeating (killed, partitioned) drops out of every node's
// list within nodeTimeout and its row is deleted; one that stops cleanly deletes its own row.
// The list is held in memory: looking an owner up on the request path does no I/O, except for a
// node newer than the last read (one store lookup, shared by concurrent requests).
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { ClusterData } from './schema.ts';

export class NodeRegistry {
  /** Live nodes (this one included): id → base URL, as of the last read. */
  private nodes = new Map<string, string>();
  private readonly lookups = new Map<string, Promise<string | undefined>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private failing = false;
  private closed = false;

  constructor(
    private readonly store: Store,
    readonly self: { readonly id: string; readonly url: string },
    private readonly settings: Pick<ClusterData, 'heartbeatInterval' | 'nodeTimeout'>,
    private readonly log: Logger,
  ) {}

  /** Registers this node (its first heartbeat) and starts the beat. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.settings.heartbeatInterval);
    this.timer.unref();
    this.log.info({ node: this.self.id, url: this.self.url, nodes: this.nodes.size }, 'cluster: node registered');
  }

  /** The base URL of a live node, or undefined when it is not registered (gone, or never was). */
  addressOf(id: string): string | undefined | Promise<string | undefined> {
    const known = this.nodes.get(id);
    if (known !== undefined) return known;
    // A node that started since the last read: ask the store once.
    let lookup = this.lookups.get(id);
    if (!lookup) {
      lookup = this.store
        .getNode(id, Date.now() - this.settings.nodeTimeout)
        .then((node) => {
          if (node && !this.closed) this.nodes.set(node.id, node.url);
          return node?.url;
        })
        .catch((err: unknown) => {
          this.log.warn({ err: (err as Error).message, node: id }, 'cluster: could not look a node up in the store');
          return undefined;
        })
        .finally(() => this.lookups.delete(id));
      this.lookups.set(id, lookup);
    }
    return lookup;
  }

  /** A node that did not answer: out of the list until its next heartbeat is read. */
  unreachable(id: string): void {
    this.nodes.delete(id);
  }

  /** How many nodes are live, this one included (for logs and health). */
  get size(): number {
    return this.nodes.size;
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    try {
      await this.store.putNode({ id: this.self.id, url: this.self.url, startedAt: this.startedAt, seenAt: now });
      const live = await this.store.listNodes(now - this.settings.nodeTimeout);
      if (this.closed) return;
      this.nodes = new Map(live.map((node) => [node.id, node.url]));
      // Rows of nodes gone for good; any node may delete them, whoever comes first.
      await this.store.pruneNodes(now - 3 * this.settings.nodeTimeout);
      if (this.failing) this.log.info('cluster: heartbeats are written again');
      this.failing = false;
    } catch (err) {
      // The store is away: keep the last list (other nodes will drop this one if it lasts).
      if (!this.failing) this.log.warn({ err: (err as Error).message }, 'cluster: could not write the heartbeat or read the node list; retrying');
      this.failing = true;
    }
  }

  /** Stops the beat and deletes this node's row, so that others stop forwarding to it at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.store.deleteNode(this.self.id).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'cluster: could not remove this node from the registry'));
  }
}
