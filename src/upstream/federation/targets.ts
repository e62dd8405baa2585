// What policies learn of a federated API's names: the server and original name behind the name
// an agent used, from the session's own tables (the ones routing uses), else from the config
// alone (a virtual server, `prefix: always`).
import type { SessionClaims } from '../../session/seal.ts';
import type { Upstream } from '../upstream.ts';
import { ChannelUpstream } from '../channel-upstream.ts';
import { FederatedChannel } from './federated-channel.ts';
import { staticTarget, type Target } from './naming.ts';
import type { FederationPlan } from './plan.ts';

export type TargetOf = (kind: 'tools' | 'prompts', name: string) => Target | undefined;

export function targetResolver(plan: FederationPlan, upstream: Upstream, claims: SessionClaims | undefined): TargetOf {
  const channel = claims && upstream instanceof ChannelUpstream ? upstream.channelOf(claims) : undefined;
  if (channel instanceof FederatedChannel) return (kind, name) => channel.resolve(kind, name);
  return (kind, name) => staticTarget(plan, kind, name);
}
