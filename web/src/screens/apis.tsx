// APIs of the draft (managed mode): the list (/apis), a new one (/apis/new), and one API with its
// tabs: settings and the client snippet (/apis/<name>), the Policy Studio (/apis/<name>/policy),
// rate limits and quotas (/apis/<name>/limits) and "What would this agent see?" (/apis/<name>/simulate).
import { useState } from 'preact/hooks';
import type { Place } from '../router.ts';
import { isPlatform, type Meta } from '../api.ts';
import { follow } from '../router.ts';
import { useManaged } from '../console/use-managed.ts';
import { Failure } from '../components/failure.tsx';
import { DraftBar } from '../console/draft-bar.tsx';
import { ApiForm } from '../console/api-form.tsx';
import { ClientSnippet } from '../console/client-snippet.tsx';
import { PolicyStudio } from '../console/policy-studio.tsx';
import { Simulator } from '../console/simulator.tsx';
import { RateLimits } from '../console/rate-limits.tsx';
import { isAcl, planOf, tenantName, type ApiEntry } from '../console/model.ts';

const TABS = [
  ['', 'Settings'],
  ['/policy', 'Policy Studio'],
  ['/limits', 'Rate limits'],
  ['/simulate', 'What would this agent see?'],
] as const;

export function Apis({ place, meta }: { place: Place; meta: Meta | undefined }) {
  const [, , rawName, tab = ''] = place.path.split('/');
  const name = rawName ? decodeURIComponent(rawName) : undefined;
  return (
    <div class="screen" data-state="ready">
      <div class="toolbar">
        <h1>{name === undefined ? 'APIs' : name === 'new' ? 'New API' : `API ${name}`}</h1>
        {name === undefined && (
          <a class="button primary" href="/apis/new" onClick={follow}>
            New API
          </a>
        )}
      </div>
      <DraftBar />
      {name === undefined ? <ApiList /> : name === 'new' ? <ApiForm key="new" name={undefined} /> : <ApiDetail key={name} name={name} tab={`/${tab}`.replace(/^\/$/, '')} platform={isPlatform(meta)} />}
    </div>
  );
}

function ApiDetail({ name, tab, platform }: { name: string; tab: string; platform: boolean }) {
  const [api, setApi] = useState<ApiEntry | undefined>();
  const base = `/apis/${encodeURIComponent(name)}`;
  return (
    <>
      <nav class="tabs" aria-label="API">
        {TABS.map(([suffix, label]) => (
          <a key={suffix} href={base + suffix} onClick={follow} aria-current={tab === suffix ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {tab === '' && (
        <div class="console-grid">
          <ApiForm name={name} onLoaded={setApi} />
          {api && <ClientSnippet api={api} />}
        </div>
      )}
      {tab === '/policy' && <PolicyStudio api={name} />}
      {tab === '/limits' && <RateLimits api={name} />}
      {tab === '/simulate' && <Simulator api={name} platform={platform} />}
    </>
  );
}

function ApiList() {
  const list = useManaged<{ items: ApiEntry[] }>('/apis');
  if (list.error) return <Failure error={list.error} />;
  if (!list.data) return <p class="muted">Loading…</p>;
  if (list.data.items.length === 0) return <p class="empty">No APIs yet. An API publishes one server (or several) at a path, with a plan and policies.</p>;
  const tenanted = list.data.items.some((a) => tenantName(a.tenant) !== undefined);
  return (
    <table class="table" aria-label="APIs in the draft">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Path</th>
          <th scope="col">Servers</th>
          <th scope="col">Plan</th>
          <th scope="col">ACL</th>
          {tenanted && <th scope="col">Tenant</th>}
        </tr>
      </thead>
      <tbody>
        {list.data.items.map((a) => {
          const acls = (a.policies ?? []).filter(isAcl);
          const rules = acls.map((acl) => `${acl.acl.rules?.length ?? 0} rule(s)`);
          return (
            <tr key={a.name} data-api={a.name}>
              <th scope="row">
                <a href={`/apis/${encodeURIComponent(a.name)}`} onClick={follow}>
                  {a.name}
                </a>
              </th>
              <td class="mono">{a.path}</td>
              <td>{a.server ?? a.servers?.join(', ') ?? 'virtual'}</td>
              <td>{planOf(a.auth)}</td>
              <td>{acls.length === 0 ? <span class="muted">none (everything allowed)</span> : acls.length === 1 ? rules[0] : `${acls.length} ACLs: ${rules.join(', ')}`}</td>
              {tenanted && <td data-col="tenant">{tenantName(a.tenant) ?? 'default'}</td>}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
