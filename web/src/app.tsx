// The frame: a header with the screens (real links, so they open in new tabs and work with the
// keyboard) and the screen for the current path.
import { useEffect, useState } from 'preact/hooks';
import { isPlatform, onUnauthorized, type ApprovalView, type Meta } from './api.ts';
import { follow, usePlace } from './router.ts';
import { useApi } from './use-api.ts';
import { Notice } from './components/bits.tsx';
import { Overview } from './screens/overview.tsx';
import { Logs } from './screens/logs.tsx';
import { Upstreams } from './screens/upstreams.tsx';
import { Servers } from './screens/servers.tsx';
import { Apis } from './screens/apis.tsx';
import { Deployments } from './screens/deployments.tsx';
import { Agents } from './screens/agents.tsx';
import { Credentials } from './screens/credentials.tsx';
import { Users } from './screens/users.tsx';
import { Approvals } from './screens/approvals.tsx';
import { Tools } from './screens/tools.tsx';
import { Tenants } from './screens/tenants.tsx';
import { Access } from './screens/access.tsx';
import { SIGN_IN_PATH } from './sign-in.ts';
// Imported, so it is a hashed asset the browser caches instead of revalidating on every screen.
import logo from './logo.svg';

const SCREENS = [
  { path: '/', label: 'Overview' },
  { path: '/logs', label: 'Logs' },
  { path: '/upstreams', label: 'Upstreams' },
  // The safety policies' human side (file mode and managed mode alike).
  { path: '/approvals', label: 'Approvals' },
  { path: '/tools', label: 'Tool pinning' },
  // The console (managed mode): what the management API changes.
  { path: '/servers', label: 'Servers', console: true },
  { path: '/apis', label: 'APIs', console: true },
  { path: '/deployments', label: 'Deployments', console: true },
  { path: '/agents', label: 'Agents', console: true },
  // A tenant's admin sees its own tenant's users.
  { path: '/users', label: 'Users', console: true },
  { path: '/credentials', label: 'Credentials', console: true },
  { path: '/tenants', label: 'Tenants', console: true, platform: true },
  // Admin users and API tokens: owners only (a tenant's owner manages its tenant's).
  { path: '/access', label: 'Access', console: true, owner: true },
] as const;

/** The screen a path belongs to: the first segment, if it names one. */
function screenOf(path: string): (typeof SCREENS)[number]['path'] {
  const first = `/${path.split('/')[1] ?? ''}`;
  return SCREENS.find((s) => s.path === first)?.path ?? '/';
}

export function App() {
  const place = usePlace();
  const meta = useApi<Meta>('/api/meta');
  // Answered in managed mode only: a Gatehouse running from a file shows no console links (its
  // file is the place to change it; the console's addresses still say so when opened).
  const managed = useApi<{ mode: string }>('/api/v1/info');
  const [signedOut, setSignedOut] = useState(false);
  useEffect(() => onUnauthorized(() => setSignedOut(true)), []);
  const active = screenOf(place.path);
  // The queue of held calls, for the navigation's count and the Approvals screen: polled every 2 s
  // there (a held call is a person's or agent's wait), every 5 s elsewhere. Memory on the node: cheap.
  const approvals = useApi<{ items: ApprovalView[] }>('/api/approvals', active === '/approvals' ? 2000 : 5000);
  const waiting = approvals.data?.items.length ?? 0;
  useEffect(() => {
    document.title = `${SCREENS.find((s) => s.path === active)?.label ?? 'Gatehouse'} · Gatehouse`;
  }, [active]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">
          <img src={logo} alt="" width="22" height="22" />
          Gatehouse
        </span>
        <nav aria-label="Screens">
          {SCREENS.filter((s) => (!('console' in s) || managed.data !== undefined) && (!('platform' in s) || isPlatform(meta.data)) && (!('owner' in s) || meta.data?.you?.role === 'owner')).map((s) => (
            <a key={s.path} href={s.path} onClick={follow} aria-current={s.path === active ? 'page' : undefined}>
              {s.label}
              {s.path === '/approvals' && waiting > 0 && (
                <>
                  <span class="nav-count" data-approvals-count={waiting} aria-hidden="true">
                    {waiting}
                  </span>
                  <span class="visually-hidden"> ({waiting} waiting)</span>
                </>
              )}
            </a>
          ))}
        </nav>
        <span class="version">{meta.data ? `v${meta.data.version}` : ''}</span>
        {/* A form POST: the admin listener ends the session cookie and shows the sign-in page. */}
        <form method="post" action="/logout" class="sign-out">
          <button type="submit" class="link-button">
            Sign out
          </button>
        </form>
      </header>
      <main id="main" tabIndex={-1}>
        {signedOut ? (
          <Notice kind="error">
            You are not signed in to the admin listener, or your session ended. <a href={`${SIGN_IN_PATH}?next=${encodeURIComponent(place.path)}`}>Sign in</a> with the admin token or an admin user.
          </Notice>
        ) : (
          <>
            {meta.data && !meta.data.audit.readable && (
              <Notice kind="error">The audit log cannot be read (it is off, or its sink is jsonl): the overview and the logs have nothing to show. Use the sqlite (default) or postgres sink.</Notice>
            )}
            {meta.data?.audit.sink && !meta.data.audit.sink.up && (
              <Notice kind="error">
                The audit sink ({meta.data.audit.sink.type}) is unreachable{meta.data.audit.sink.downSince ? ` since ${new Date(meta.data.audit.sink.downSince).toLocaleString()}` : ''}
                {meta.data.audit.sink.error ? ` (${meta.data.audit.sink.error})` : ''}. Gatehouse keeps serving and holds new records in its queue until the sink is back; the screens show what was written before.
              </Notice>
            )}
            {active === '/' && <Overview place={place} meta={meta.data} />}
            {active === '/logs' && <Logs place={place} meta={meta.data} />}
            {active === '/upstreams' && <Upstreams />}
            {active === '/approvals' && <Approvals queue={approvals} meta={meta.data} />}
            {active === '/tools' && <Tools meta={meta.data} />}
            {active === '/servers' && <Servers place={place} />}
            {active === '/apis' && <Apis place={place} meta={meta.data} />}
            {active === '/deployments' && <Deployments meta={meta.data} />}
            {active === '/agents' && <Agents />}
            {active === '/users' && <Users />}
            {active === '/credentials' && <Credentials />}
            {active === '/tenants' && <Tenants meta={meta.data} />}
            {active === '/access' && <Access />}
          </>
        )}
      </main>
    </>
  );
}
