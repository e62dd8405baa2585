// Config of the cluster (`cluster:`): how this node registers in the shared store and forwards
// requests for sessions other nodes own. A setting of each node (managed mode: its node file).
import { z } from 'zod';
import { Duration } from '../config/units.ts';

export const CLUSTER_DEFAULT = { heartbeatInterval: 2_000, nodeTimeout: 10_000, forwardConnectTimeout: 2_000 };

export const ClusterSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .optional()
      .meta({ description: 'Register this node in the store and forward requests for sessions another live node owns (stdio children, HTTP+SSE connections, federated sessions with such a member, bridged calls waiting for input) to that node. Default: on when the store is Postgres, off for SQLite.' }),
    advertiseUrl: z
      .string()
      .url()
      .refine((value) => /^https?:$/.test(new URL(value).protocol) && ['', '/'].includes(new URL(value).pathname) && new URL(value).search === '', 'expected an http(s) URL of the node with no path or query, e.g. http://10.0.0.11:8080 (requests are forwarded to the same path they came on)')
      .optional()
      .meta({ description: 'Base URL of this node\'s MCP listener as the other nodes reach it (e.g. http://10.0.0.11:8080), without a path. Default: the listener\'s own address (listen.host and port; the machine\'s host name when listen.host is 0.0.0.0 or ::). An https URL needs a certificate the other nodes trust (a private CA: NODE_EXTRA_CA_CERTS).' }),
    heartbeatInterval: Duration.default(CLUSTER_DEFAULT.heartbeatInterval).meta({ description: 'How often this node writes its heartbeat to the store and reads the list of live nodes.' }),
    nodeTimeout: Duration.default(CLUSTER_DEFAULT.nodeTimeout).meta({ description: 'A node whose last heartbeat is older than this is taken as gone: its sessions are answered 404 (clients initialize again) and its row is deleted. At least twice heartbeatInterval.' }),
    forwardConnectTimeout: Duration.default(CLUSTER_DEFAULT.forwardConnectTimeout).meta({ description: 'Longest wait to connect to the owner node when forwarding; an owner that cannot be reached is taken as gone (404).' }),
  })
  .refine((c) => c.nodeTimeout >= 2 * c.heartbeatInterval, { message: 'expected cluster.nodeTimeout to be at least twice cluster.heartbeatInterval (a node would be dropped between two heartbeats)', path: ['nodeTimeout'] })
  .default(CLUSTER_DEFAULT)
  .meta({ description: 'Several nodes on one store: the node registry and forwarding of requests to the node that owns a session, so that a round-robin balancer works for every API. Nodes sign what they forward to each other with a key derived from the session key (GATEHOUSE_SESSION_KEY), which every node of a cluster shares anyway; a request with a forwarding header that does not verify is refused (GH_FORWARD_REFUSED). Takes effect on restart.' });

export type ClusterData = z.output<typeof ClusterSchema>;
