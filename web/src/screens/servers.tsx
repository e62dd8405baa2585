// Servers of the draft (managed mode): the list, and the form for a new or an existing one
// (/servers/new, /servers/<name>). Saved changes wait in the draft until deployed.
import type { Place } from '../router.ts';
import { follow } from '../router.ts';
import { useManaged } from '../console/use-managed.ts';
import { Failure } from '../components/failure.tsx';
import { DraftBar } from '../console/draft-bar.tsx';
import { ServerForm } from '../console/server-form.tsx';
import { targetOf, tenantName, transportOf, type ServerEntry } from '../console/model.ts';

const TRANSPORT: Record<ReturnType<typeof transportOf>, string> = { http: 'Streamable HTTP', stdio: 'stdio', sse: 'HTTP+SSE' };

export function Servers({ place }: { place: Place }) {
  const sub = place.path.slice('/servers/'.length);
  const open = place.path.startsWith('/servers/') && sub !== '' ? decodeURIComponent(sub) : undefined;
  const list = useManaged<{ items: ServerEntry[] }>(open === undefined ? '/servers' : undefined);
  // The tenant column only once some server has a tenant, as on the agents screen.
  const tenanted = list.data?.items.some((s) => tenantName(s.tenant) !== undefined) ?? false;
  return (
    <div class="screen" data-state={open === undefined && list.loading ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Servers</h1>
        {open === undefined && (
          <a class="button primary" href="/servers/new" onClick={follow}>
            New server
          </a>
        )}
      </div>
      <DraftBar />
      {open !== undefined ? (
        <ServerForm key={open} name={open === 'new' ? undefined : open} />
      ) : (
        <>
          <Failure error={list.error} />
          {list.data && list.data.items.length === 0 && <p class="empty">No servers yet. A server is the MCP server Gatehouse forwards to: create one, then an API that publishes it.</p>}
          {list.data && list.data.items.length > 0 && (
            <table class="table" aria-label="Servers in the draft">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Transport</th>
                  <th scope="col">Target</th>
                  {tenanted && <th scope="col">Tenant</th>}
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((s) => (
                  <tr key={s.name} data-server={s.name}>
                    <th scope="row">
                      <a href={`/servers/${encodeURIComponent(s.name)}`} onClick={follow}>
                        {s.name}
                      </a>
                    </th>
                    <td>{TRANSPORT[transportOf(s)]}</td>
                    <td class="mono">{targetOf(s)}</td>
                    {tenanted && <td data-col="tenant">{tenantName(s.tenant) ?? 'default'}</td>}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}
