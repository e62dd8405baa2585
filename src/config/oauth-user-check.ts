// Cross-checks of servers with `auth: { type: oauth-user }`: the per-user token is chosen from the
// caller of each request, which only the direct Streamable HTTP connector knows. So such a server
// has no `credential` besides, no shared list cache (one user's list would serve another), and is
// reached by APIs that name it alone (`server:`), not through a federated API or virtual server.
import type { ConfigData } from './schema.ts';

interface PathProblem {
  path: PropertyKey[];
  message: string;
}

export function checkOAuthUserServers(config: ConfigData): PathProblem[] {
  const problems: PathProblem[] = [];
  const perUser = new Set<string>();
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('url' in server) || server.auth === undefined) continue;
    perUser.add(name);
    if (server.credential !== undefined) {
      problems.push({ path: ['servers', name, 'credential'], message: 'a server with `auth: { type: oauth-user }` sends each user\'s own token; remove `credential` (or `auth`)' });
    }
    if (server.listCache?.enabled) {
      problems.push({ path: ['servers', name, 'listCache', 'enabled'], message: 'expected false: lists seen with one user\'s token must not be served to another (oauth-user)' });
    }
  }
  if (perUser.size === 0) return problems;
  config.apis.forEach((api, index) => {
    const refs: Array<[string, PropertyKey[]]> = [
      ...(api.servers ?? []).map((s, i): [string, PropertyKey[]] => [s, ['apis', index, 'servers', i]]),
      ...(api.tools ?? []).map((t, i): [string, PropertyKey[]] => [t.server, ['apis', index, 'tools', i, 'server']]),
      ...(api.prompts ?? []).map((p, i): [string, PropertyKey[]] => [p.server, ['apis', index, 'prompts', i, 'server']]),
      ...(api.resources ?? []).map((r, i): [string, PropertyKey[]] => [r.server, ['apis', index, 'resources', i, 'server']]),
    ];
    for (const [server, path] of refs) {
      if (perUser.has(server)) {
        problems.push({ path, message: `server "${server}" uses per-user OAuth (auth: oauth-user), which is served only to an API that names it alone (\`server: ${server}\`), not through a federated API or virtual server yet` });
      }
    }
  });
  return problems;
}
