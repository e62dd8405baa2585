// Gets an SSE response's head to the client as soon as the upstream's head arrives: a slow tool
// call or a silent standalone GET stream may send its first event much later, and the client
// waits on the head (its fetch does not resolve before it).
//
// The head still shares a write with the first event when that event is already here: the
// socket is corked while the head is written and uncorked at the end of this event-loop turn
// (setImmediate), so events relayed in the same turn leave in the same write, and the head never
// waits longer than that turn. One immediate serves every head of the turn.
import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';

let corked: Socket[] = [];

export function flushHeadSoon(res: ServerResponse): void {
  const socket = res.socket;
  if (socket && !socket.destroyed) {
    socket.cork();
    if (corked.push(socket) === 1) setImmediate(uncorkAll);
  }
  res.flushHeaders();
}

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) socket.uncork();
}
