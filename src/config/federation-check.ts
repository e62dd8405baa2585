// Cross-checks of the APIs' server bindings: exactly one form (`server`, `servers`, or a virtual
// server's selection), every named server exists, and the names a federated API or virtual
// server will show stay unique and within MCP's tool-name rules. Names only the servers know
// (a federated API's tools) are checked when they are listed (src/upstream/federation/naming.ts).
import type { ConfigData } from './schema.ts';
import { TOOL_NAME_MAX } from './federation-schema.ts';
import { tenantOf } from './tenant-schema.ts';

interface PathProblem {
  path: PropertyKey[];
  message: string;
}

export function checkApiServers(config: ConfigData): PathProblem[] {
  const problems: PathProblem[] = [];
  const serverNames = Object.keys(config.servers);
  const knownAnywhere = (name: string, path: PropertyKey[]) => {
    if (!(name in config.servers)) {
      problems.push({ path, message: `no server named "${name}"; expected one of the names under \`servers\` (${serverNames.join(', ') || 'none defined'})` });
    }
  };
  config.apis.forEach((api, index) => {
    const at = (...rest: PropertyKey[]): PropertyKey[] => ['apis', index, ...rest];
    // With tenants, an API sees the servers of its tenant only: another tenant's server is
    // answered exactly as a missing one, and only its own tenant's names are listed, so that a
    // tenant's admin learns nothing of the others from a refused change.
    const tenant = tenantOf(api);
    const known = config.tenants.length === 0 ? knownAnywhere : (name: string, path: PropertyKey[]) => {
      const server = Object.hasOwn(config.servers, name) ? config.servers[name] : undefined;
      if (server === undefined || tenantOf(server) !== tenant) {
        const own = serverNames.filter((n) => tenantOf(config.servers[n]) === tenant);
        problems.push({ path, message: `no server named "${name}" in tenant "${tenant}" (an API uses servers of its own tenant); expected one of ${own.join(', ') || 'none defined'}` });
      }
    };
    const isVirtual = api.tools !== undefined || api.prompts !== undefined || api.resources !== undefined;
    const forms = [api.server !== undefined && 'server', api.servers !== undefined && 'servers', isVirtual && 'tools/prompts/resources'].filter(Boolean);
    if (forms.length !== 1) {
      problems.push({
        path: at(forms.length === 0 ? 'server' : forms[1] === 'servers' ? 'servers' : 'tools'),
        message:
          forms.length === 0
            ? 'required field is missing (expected string): `server` names the one server of this API; or give `servers` (a federated API) or `tools` / `prompts` / `resources` (a virtual server)'
            : `expected exactly one of \`server\`, \`servers\` or a virtual server's \`tools\` / \`prompts\` / \`resources\` (this API has ${forms.join(' and ')})`,
      });
      return;
    }
    if (api.server !== undefined) {
      known(api.server, at('server'));
      if (api.namespace) problems.push({ path: at('namespace'), message: '`namespace` applies to a federated API (`servers`); remove it or list the servers under `servers`' });
      if (api.onUpstreamFailure) problems.push({ path: at('onUpstreamFailure'), message: '`onUpstreamFailure` applies to an API of several servers; remove it' });
      return;
    }
    if (isVirtual && api.namespace) problems.push({ path: at('namespace'), message: 'a virtual server names each item itself (`as`); remove `namespace`' });
    if (api.servers) {
      const seen = new Map<string, number>();
      const separator = api.namespace?.separator ?? '__';
      const prefixed = (api.namespace?.prefix ?? 'always') !== 'never';
      api.servers.forEach((name, i) => {
        known(name, at('servers', i));
        const before = seen.get(name);
        if (before !== undefined) problems.push({ path: at('servers', i), message: `server "${name}" is listed twice (also servers[${before}])` });
        seen.set(name, i);
        if (prefixed && name.includes(separator)) {
          problems.push({
            path: at('servers', i),
            message: `server name "${name}" contains the namespace separator "${separator}": a prefixed name could then be split two ways; choose another namespace.separator`,
          });
        }
        if (prefixed && name.length + separator.length + 1 > TOOL_NAME_MAX) {
          problems.push({ path: at('servers', i), message: `server name "${name}" with the separator leaves no room for a name within ${TOOL_NAME_MAX} characters` });
        }
      });
    }
    api.tools?.forEach((tool, i) => known(tool.server, at('tools', i, 'server')));
    api.prompts?.forEach((prompt, i) => known(prompt.server, at('prompts', i, 'server')));
    api.resources?.forEach((resource, i) => known(resource.server, at('resources', i, 'server')));
    duplicates(api.tools ?? [], 'tools', 'tool', at, problems);
    duplicates(api.prompts ?? [], 'prompts', 'prompt', at, problems);
    api.tools?.forEach((tool, i) => {
      const fixed = Object.keys(tool.arguments?.fixed ?? {});
      const both = fixed.filter((key) => key in (tool.arguments?.defaults ?? {}));
      if (both.length > 0) problems.push({ path: at('tools', i, 'arguments', 'defaults'), message: `argument ${both.map((k) => `"${k}"`).join(', ')} is both fixed and defaulted; keep it in one of them` });
    });
  });
  return problems;
}

/** Two items of a virtual server shown under one name: a collision, refused at load. */
function duplicates(items: ReadonlyArray<{ name: string; as?: string | undefined; server: string }>, field: string, what: string, at: (...rest: PropertyKey[]) => PropertyKey[], problems: PathProblem[]): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const shown = item.as ?? item.name;
    const before = seen.get(shown);
    if (before !== undefined) {
      problems.push({
        path: at(field, i, item.as !== undefined ? 'as' : 'name'),
        message: `${what} name "${shown}" is already used by ${field}[${before}]; two ${what}s cannot share a name (rename one with \`as\`)`,
      });
    }
    seen.set(shown, i);
  });
}
