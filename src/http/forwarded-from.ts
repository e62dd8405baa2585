// What the owner of a session takes from the node that forwarded a request to it (src/cluster/):
// the client's address and scheme as that node saw them. Kept beside the request, set only once
// the forwarding header is verified; everywhere else the socket's own values hold.
import type { IncomingMessage } from 'node:http';

interface ForwardedFrom {
  readonly node: string;
  readonly address: string;
  readonly scheme: 'http' | 'https';
}

const forwarded = new WeakMap<IncomingMessage, ForwardedFrom>();

export function markForwarded(req: IncomingMessage, from: ForwardedFrom): void {
  forwarded.set(req, from);
}

/** The node that forwarded this request, when another node did (it is then never forwarded again). */
export function forwardedBy(req: IncomingMessage): string | undefined {
  return forwarded.get(req)?.node;
}

/** The client's address: the forwarding node's account of it, else the socket's. */
export function clientAddressOf(req: IncomingMessage): string | undefined {
  return forwarded.get(req)?.address ?? req.socket.remoteAddress;
}

/** The scheme the client used, when another node forwarded the request. */
export function forwardedScheme(req: IncomingMessage): 'http' | 'https' | undefined {
  return forwarded.get(req)?.scheme;
}
