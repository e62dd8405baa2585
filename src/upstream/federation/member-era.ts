// Which channel a Streamable HTTP member of a federated API gets, decided as for a single server
// (bridge/era.ts): a server that serves 2025 clients gets a 2025 upstream session (http-member.ts),
// as it always has; one that speaks only 2026-07-28 (its `server/discover` lists 2026-07-28 and it
// refuses a 2025 `initialize`) is spoken to sessionlessly (modern-member.ts). The server's probe
// is the one its single-server APIs use, so the answer is asked once and remembered five minutes.
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
