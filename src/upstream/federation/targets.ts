// What policies and the audit learn of a federated API's names: the server and original name
// behind the name (or URI) an agent used, from the session's own tables (the ones routing uses),
// else from the config alone (a virtual server, `prefix: always`).
import type { SessionClaims } from '../../session/seal.ts';
import type { Upstream } from '../upstream.ts';
import type { MessageChannel } from '../channel.ts';
import type { JsonRpcMessage } from '../../mcp/jsonrpc.ts';
import { itemOf } from '../../mcp/classify.ts';
import { ChannelUpstream } from '../channel-upstream.ts';
import { FederatedChannel } from './federated-channel.ts';
import { staticTarget, type Target } from './naming.ts';
import type { FederationPlan } from './plan.ts';

export type TargetKind = 'tools' | 'prompts' | 'resources';

export type TargetOf = (kind: TargetKind, nameOrUri: string) => Target | undefined;

/** A federated API's name resolution for one request: a channel's tables when the session has one. */
export interface Targets {
  readonly of: TargetOf;
  /** Lets the session's tables learn the items these messages name (lists fetched when not cached); a no-op without a session. */
  locate(messages: readonly JsonRpcMessage[]): Promise<void>;
}

/**
 * `bridged`: the channel of a 2026-07-28 client's bridged session (src/bridge/), which has no
 * session claims; a 2025 client's channel is found from its session's claims.
 */
export function targetResolver(plan: FederationPlan, upstream: Upstream, claims: SessionClaims | undefined, bridged?: MessageChannel): Targets {
  const channel = bridged ?? (claims && upstream instanceof ChannelUpstream ? upstream.channelOf(claims) : undefined);
  if (channel instanceof FederatedChannel) {
    return {
      of: (kind, name) => (kind === 'resources' ? channel.resolveUri(name) : channel.resolve(kind, name)),
      locate: async (messages) => {
        for (const message of messages) {
          const named = itemOf(message);
          if (named) await channel.locate(named.kind, named.name);
        }
      },
    };
  }
  return { of: (kind, name) => (kind === 'resources' ? staticResourceTarget(plan, name) : staticTarget(plan, kind, name)), locate: NOTHING_TO_LOCATE };
}

const NOTHING_TO_LOCATE = async (): Promise<void> => undefined;

/** The server of a resource URI as the config alone says: a virtual server's globs. */
export function staticResourceTarget(plan: FederationPlan, uri: string): Target | undefined {
  const entry = plan.virtual?.resources.find((r) => r.match.test(uri));
  return entry ? { server: entry.server, original: uri } : undefined;
}

/**
 * The server and original name of each message of a federated API's request, for the audit
 * and metrics: what it names (as `of` places it), and for a client's answer to a server request
 * the server that asked (Gatehouse's id for it is `<server>#<n>`).
 */
export function targetsOfMessages(plan: FederationPlan, of: TargetOf, messages: readonly JsonRpcMessage[]): Array<Target | undefined> {
  return messages.map((message) => {
    const named = itemOf(message);
    if (named) return of(named.kind, named.name);
    if (!('method' in message) && 'id' in message && typeof message.id === 'string') {
      const server = message.id.slice(0, message.id.lastIndexOf('#'));
      if (plan.members.includes(server)) return { server, original: '' };
    }
    return undefined;
  });
}
