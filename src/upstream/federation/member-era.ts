// Which channel a Streamable HTTP member of a federated API gets, decided by the probe a single
// server's 2026-07-28 clients use (bridge/era.ts, the server's own, so the answer is asked once
// and remembered five minutes): a server whose `server/discover` lists 2026-07-28 is spoken to
// sessionlessly in 2026-07-28 (modern-member.ts), any other gets a 2025 upstream session
// (http-member.ts), as before. A server that still serves 2025 clients too gets the 2026-07-28
// hop as well: the SDK 2.x servers answer 2025 requests without a session, knowing no client
// capabilities, so their multi round-trip tools could not ask the client over a 2025 hop.
// A stored upstream session (resume) is always a 2025 one: sessionless members store nothing.
import type { Logger } from '../../log.ts';
import type { EraProbe } from '../../bridge/era.ts';
import type { ModernTarget } from '../../bridge/modern-request.ts';
import type { MessageChannel } from '../channel.ts';
import { HttpMemberChannel, type HttpMemberConfig, type HttpMemberResume } from './http-member.ts';
import { ModernMemberChannel } from './modern-member.ts';

export function httpMemberChannel(server: string, http: HttpMemberConfig, modern: ModernTarget, probe: EraProbe | undefined, log: Logger, resume?: HttpMemberResume): MessageChannel | Promise<MessageChannel> {
  if (resume || !probe) return new HttpMemberChannel(http, log, resume);
  const speaks = probe.speaksModern();
  if (typeof speaks === 'boolean') return choose(speaks);
  // A server that cannot be asked gets a 2025 channel, which fails as any request to it would (and is tried again).
  return speaks.then(choose, () => choose(false));
  function choose(speaksModern: boolean): MessageChannel {
    return speaksModern ? new ModernMemberChannel(server, modern, log.child({ era: '2026-07-28' })) : new HttpMemberChannel(http, log);
  }
}
