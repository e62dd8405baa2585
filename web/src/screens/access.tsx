// Who may use the admin listener (managed mode, owners only): admin users — users of the embedded
// authorization server with a role, and optionally a tenant — and API tokens for automation. Both
// live in the store and apply at once, on every node. Admin users of the node file (admin.users)
// are listed, read-only. A new token is shown once, in the answer that makes it: the store keeps
// the digest of its secret. A tenant's owner sees and manages its own tenant's only.
import { useState } from 'preact/hooks';
import { manage } from '../manage.ts';
import { useManaged } from '../console/use-managed.ts';
import { Failure } from '../components/failure.tsx';
import { Notice, Panel, Select } from '../components/bits.tsx';
import { TextField } from '../console/fields.tsx';
import { useTenantChoice } from '../console/tenant-choice.tsx';
import { time } from '../format.ts';

type Role = 'owner' | 'admin' | 'viewer';
const ROLES: Array<[Role, string]> = [
  ['viewer', 'viewer — reads only'],
  ['admin', 'admin — changes all but access'],
  ['owner', 'owner — everything'],
];

interface AdminUser {
  username: string;
  role: Role;
  tenant: string | null;
  source: 'store' | 'node';
  /** The user behind the entry: only an active one signs in. */
  user: 'active' | 'disabled' | 'missing';
  createdAt: number | null;
  createdBy: string | null;
}
interface Token {
  id: string;
  name: string;
  role: Role;
  tenant: string | null;
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

const DAY = 24 * 60 * 60_000;
const EXPIRIES: Array<[string, string]> = [
  ['', 'never'],
  ['1', 'in 1 day'],
  ['7', 'in 7 days'],
  ['30', 'in 30 days'],
  ['90', 'in 90 days'],
  ['365', 'in a year'],
];

/** The tenant choices for platform owners: '' is the whole platform (no tenant). */
function tenantOptions(tenants: string[] | undefined): Array<[string, string]> | undefined {
  return tenants && [['', 'none — the whole platform'], ...tenants.filter((t) => t !== '').map((t): [string, string] => [t, t])];
}

export function Access() {
  return (
    <div class="screen" data-state="ready">
      <div class="toolbar">
        <h1>Access</h1>
      </div>
      <p class="muted small">
        Who may use this admin listener besides the admin token: admin users sign in with their password (or "Sign in with Gatehouse"), scripts send an API token. A viewer reads, an admin changes everything but access, an owner everything. Changes apply at the next request, on every node, without a deployment.
      </p>
      <AdminUsers />
      <Tokens />
    </div>
  );
}

function AdminUsers() {
  const list = useManaged<{ items: AdminUser[] }>('/admins');
  // Users of the authorization server to choose from (a tenant's owner sees its tenant's).
  const users = useManaged<{ items: Array<{ username: string; tenant: string | null; disabled: boolean }> }>('/users');
  const tenants = tenantOptions(useTenantChoice());
  const [form, setForm] = useState({ username: '', role: 'viewer' as Role, tenant: '' });
  const [error, setError] = useState<Error | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const tenanted = tenants !== undefined || (list.data?.items.some((a) => a.tenant !== null) ?? false);
  const listed = new Set(list.data?.items.map((a) => a.username) ?? []);
  const candidates = (users.data?.items ?? []).filter((u) => !listed.has(u.username) && !u.disabled);

  const add = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setNotice(undefined);
    try {
      await manage('POST', '/admins', { body: { username: form.username, role: form.role, ...(form.tenant !== '' && { tenant: form.tenant }) } });
      setNotice(`${form.username} is an admin user (${form.role}): they sign in on this listener's sign-in page with their password.`);
      setForm((f) => ({ ...f, username: '' }));
      list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const changeRole = async (entry: AdminUser, role: Role) => {
    setError(undefined);
    setNotice(undefined);
    try {
      const path = `/admins/${encodeURIComponent(entry.username)}`;
      const current = await manage<AdminUser>('GET', path);
      await manage('PUT', path, { body: { role }, ifMatch: current.etag });
      setNotice(`${entry.username} is now ${role === 'admin' ? 'an' : 'a'} ${role}, from their next request.`);
      list.reload();
    } catch (e) {
      setError(e as Error);
      list.reload();
    }
  };
  const remove = async (entry: AdminUser) => {
    if (!confirm(`Remove admin user ${entry.username}? Their next request to this listener is refused; the user stays a user of the authorization server.`)) return;
    setError(undefined);
    setNotice(undefined);
    try {
      const path = `/admins/${encodeURIComponent(entry.username)}`;
      const current = await manage<AdminUser>('GET', path);
      await manage('DELETE', path, { ifMatch: current.etag });
      setNotice(`${entry.username} is no longer an admin user.`);
      list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <div class="console-grid">
      <Panel title="Admin users" id="admin-users">
        <Failure error={error ?? list.error} />
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        {list.data?.items.length === 0 && <p class="empty">No admin users: only the admin token and API tokens sign in.</p>}
        {list.data && list.data.items.length > 0 && (
          <table class="table" aria-label="Admin users">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                {tenanted && <th scope="col">Tenant</th>}
                <th scope="col">Source</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.username} data-admin={a.username} data-role={a.role} data-source={a.source}>
                  <th scope="row">
                    {a.username}
                    {a.user !== 'active' && (
                      <span class="badge badge-denied" data-col="user" title={a.user === 'missing' ? 'No such user at the authorization server any more (or a new user under this name): this entry grants nothing' : 'The user is disabled at the authorization server: this entry grants nothing until it is enabled'}>
                        {a.user === 'missing' ? 'user missing' : 'user disabled'}
                      </span>
                    )}
                  </th>
                  <td data-col="role">
                    {a.source === 'store' ? (
                      <select aria-label={`Role of ${a.username}`} value={a.role} onChange={(e) => changeRole(a, (e.currentTarget as HTMLSelectElement).value as Role)}>
                        {ROLES.map(([value]) => (
                          <option key={value} value={value}>
                            {value}
                          </option>
                        ))}
                      </select>
                    ) : (
                      a.role
                    )}
                  </td>
                  {tenanted && <td data-col="tenant">{a.tenant ?? '—'}</td>}
                  <td data-col="source">
                    {a.source === 'node' ? (
                      <span class="badge badge-up-idle" title="Listed in the node file's admin.users: change it there">
                        node file
                      </span>
                    ) : (
                      <span class="muted small" title={a.createdAt ? `Added ${time(a.createdAt)}` : undefined}>
                        added by {a.createdBy}
                      </span>
                    )}
                  </td>
                  <td>
                    {a.source === 'store' && (
                      <button type="button" class="button danger" onClick={() => remove(a)} aria-label={`Remove admin user ${a.username}`}>
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <form class="panel form" onSubmit={add} aria-label="New admin user" autocomplete="off">
        <h2>New admin user</h2>
        {users.data && candidates.length === 0 ? (
          <p class="empty">Every user of the authorization server is an admin user already, or there are none: create the user on the Users screen first.</p>
        ) : (
          <Select id="admin-user" label="User" value={form.username} options={[['', 'choose a user…'], ...candidates.map((u): [string, string] => [u.username, u.tenant ? `${u.username} (${u.tenant})` : u.username])]} onChange={(username) => setForm((f) => ({ ...f, username }))} />
        )}
        <Select id="admin-role" label="Role" value={form.role} options={ROLES} onChange={(role) => setForm((f) => ({ ...f, role: role as Role }))} />
        {tenants && <Select id="admin-tenant" label="Tenant" value={form.tenant} options={tenants} onChange={(tenant) => setForm((f) => ({ ...f, tenant }))} />}
        <span class="hint">They sign in with their own password. The admin token always stays an owner, so nobody is locked out.</span>
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={form.username === ''}>
            Add admin user
          </button>
        </div>
      </form>
    </div>
  );
}

function Tokens() {
  const list = useManaged<{ items: Token[] }>('/tokens');
  const tenants = tenantOptions(useTenantChoice());
  const [form, setForm] = useState({ name: '', role: 'viewer' as Role, tenant: '', expires: '' });
  const [error, setError] = useState<Error | undefined>();
  const [fresh, setFresh] = useState<{ name: string; token: string } | undefined>();
  const [copied, setCopied] = useState(false);
  const tenanted = tenants !== undefined || (list.data?.items.some((t) => t.tenant !== null) ?? false);

  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setCopied(false);
    try {
      const body = { name: form.name.trim(), role: form.role, ...(form.tenant !== '' && { tenant: form.tenant }), ...(form.expires !== '' && { expiresAt: Date.now() + Number(form.expires) * DAY }) };
      const { body: made } = await manage<Token & { token: string }>('POST', '/tokens', { body });
      setFresh({ name: made.name, token: made.token });
      setForm((f) => ({ ...f, name: '' }));
      list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const revoke = async (token: Token) => {
    if (!confirm(`Revoke token "${token.name}"? Scripts using it are refused at once, on every node.`)) return;
    setError(undefined);
    try {
      await manage('DELETE', `/tokens/${encodeURIComponent(token.id)}`);
      list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const copy = async () => {
    if (!fresh) return;
    try {
      await navigator.clipboard.writeText(fresh.token);
      setCopied(true);
    } catch {
      // No clipboard (an insecure origin, a refused permission): the token is selectable on the page.
      setCopied(false);
    }
  };
  const state = (t: Token) => (t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= Date.now() ? 'expired' : 'live');

  return (
    <div class="console-grid">
      <Panel title="API tokens" id="tokens">
        {fresh && (
          <Notice>
            New token <strong>{fresh.name}</strong> — shown this once; copy it now and keep it in your secret store (Gatehouse keeps only its digest): <code data-new-token>{fresh.token}</code>{' '}
            <button type="button" class="button" onClick={copy}>
              {copied ? 'Copied' : 'Copy'}
            </button>
            <span class="hint">Send it as Authorization: Bearer … to /api/v1.</span>
          </Notice>
        )}
        <Failure error={error ?? list.error} />
        {list.data?.items.length === 0 && <p class="empty">No API tokens yet.</p>}
        {list.data && list.data.items.length > 0 && (
          <table class="table" aria-label="API tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                {tenanted && <th scope="col">Tenant</th>}
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={t.id} data-token={t.id} data-token-name={t.name} data-state={state(t)}>
                  <th scope="row">
                    {t.name} <span class="muted small mono">({t.id})</span>
                  </th>
                  <td>{t.role}</td>
                  {tenanted && <td>{t.tenant ?? '—'}</td>}
                  <td class="nowrap" title={`by ${t.createdBy}`}>
                    {time(t.createdAt)}
                  </td>
                  <td class="nowrap">{t.expiresAt !== null ? time(t.expiresAt) : 'never'}</td>
                  <td>
                    {state(t) === 'live' ? (
                      <button type="button" class="button danger" onClick={() => revoke(t)} aria-label={`Revoke token ${t.name}`}>
                        Revoke
                      </button>
                    ) : (
                      <span class="badge badge-error" title={t.revokedAt !== null ? `Revoked ${time(t.revokedAt)}` : undefined}>
                        {state(t)}
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <form class="panel form" onSubmit={create} aria-label="New API token" autocomplete="off">
        <h2>New API token</h2>
        <TextField id="token-name" label="Name" value={form.name} onInput={(name) => setForm((f) => ({ ...f, name }))} hint="What it is for, e.g. ci deploys." required />
        <Select id="token-role" label="Role" value={form.role} options={ROLES} onChange={(role) => setForm((f) => ({ ...f, role: role as Role }))} />
        {tenants && <Select id="token-tenant" label="Tenant" value={form.tenant} options={tenants} onChange={(tenant) => setForm((f) => ({ ...f, tenant }))} />}
        <Select id="token-expires" label="Expires" value={form.expires} options={EXPIRIES} onChange={(expires) => setForm((f) => ({ ...f, expires }))} />
        <div class="form-actions">
          <button type="submit" class="button primary">
            Create token
          </button>
        </div>
      </form>
    </div>
  );
}
