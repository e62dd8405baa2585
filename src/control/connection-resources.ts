// /api/v1/connections…: users' connections to per-user upstream servers (auth: oauth-user).
// GET lists them (?user=<id> for one user's), never a token; DELETE /connections/{user}/{server}
// deletes one and revokes its tokens upstream (RFC 7009) where the server supports it.
// Connections belong to the platform's users: a tenant's identity is refused (like /users).
import type { UserConnections } from '../credentials/oauth-user/connections.ts';
import { notFound } from './errors.ts';
import { methodNotAllowed, pointer, reply, type Call } from './http.ts';

export async function connectionsResource(call: Call, connections: UserConnections): Promise<void> {
  const [, user, server, ...rest] = call.segments;
  if (rest.length > 0 || (user !== undefined && server === undefined)) throw notFound(`/api/v1/${call.segments.join('/')}`);
  if (user === undefined) {
    if (call.method !== 'GET') methodNotAllowed(call, 'GET');
    const only = call.query.get('user') ?? undefined;
    const items = (await connections.list(only)).map((c) => ({ user: c.userId, server: c.server, expiresAt: c.expiresAt ?? null, updatedAt: c.updatedAt, problem: c.problem ?? null }));
    return reply(call, 200, { items });
  }
  if (call.method !== 'DELETE') methodNotAllowed(call, 'DELETE');
  const outcome = await connections.revoke(user, server!);
  if (!outcome.deleted) throw notFound(`connection of user "${user}" to "${server}"`);
  call.changed('revoke connection', `connections/${user}/${server}`, [{ op: 'remove', path: pointer('connections', user, server!) }]);
  return reply(call, 200, { user, server, revokedUpstream: outcome.revokedUpstream ?? null });
}
