// One connection pool per Streamable HTTP server of the federated APIs, shared by every federated
// session that reaches it (as a single-server connector shares one pool): its connections stay
// warm across sessions, and a session costs no sockets of its own. A pool an edited config no
// longer uses only holds idle connections, which undici closes after their keep-alive; every
// pool is closed with the gateway.
import { UpstreamHttpClient } from '../http-client.ts';
import type { EgressRule } from '../egress.ts';

export class MemberClients {
  private readonly clients = new Map<string, UpstreamHttpClient>();

  /** The pool for an origin, connect timeout and egress rule (made on first use). */
  get(url: string, connectTimeout: number, egress?: EgressRule): UpstreamHttpClient {
    const origin = new URL(url).origin;
    const key = `${origin} ${connectTimeout} ${egress?.key ?? ''}`;
    let client = this.clients.get(key);
    if (!client) this.clients.set(key, (client = new UpstreamHttpClient(origin, connectTimeout, egress)));
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
