// Users of the embedded authorization server (managed mode; in the store, applied at once): the
// list, a new user (the password is sent once, never shown), and disabling or enabling one. A
// user belongs to a tenant: a tenant's admin sees and makes its own tenant's users; a platform
// admin sees all, with their tenant, and picks the tenant of a new one. An admin sets a user's
// password (a reset: the user signs in again everywhere) and resets a user's two-factor sign-in
// (a lost phone); the user turns two-factor sign-in on themselves, on /-/connections. "Grants"
// lists the applications a user authorized, each with Revoke (its tokens stop working at once).
import { useState } from 'preact/hooks';
import { manage } from '../manage.ts';
import { useManaged } from '../console/use-managed.ts';
import { Failure } from '../components/failure.tsx';
import { Panel } from '../components/bits.tsx';
import { TextField } from '../console/fields.tsx';
import { time } from '../format.ts';
import { TenantSelect, useTenantChoice, withTenant } from '../console/tenant-choice.tsx';

interface User {
  id: string;
  username: string;
  createdAt: number;
  disabled: boolean;
  /** Null: the default tenant. */
  tenant?: string | null;
  /** Whether the user signs in with a TOTP code after the password. */
  totp?: boolean;
}

/** An application's authorization by a user (GET /users/{name}/grants): never a token. */
interface Grant {
  id: string;
  clientId: string;
  clientName: string | null;
  api: string | null;
  resource: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
}

export function Users() {
  const list = useManaged<{ items: User[] }>('/users');
  const [form, setForm] = useState({ username: '', password: '', tenant: '' });
  const [error, setError] = useState<Error | undefined>();
  // The user whose password is being set (the form under the list), and what happened last.
  const [passwordFor, setPasswordFor] = useState<string | undefined>();
  const [newPassword, setNewPassword] = useState('');
  const [notice, setNotice] = useState<string | undefined>();
  // The user whose grants are shown (the table under the list), and those grants once loaded.
  const [grantsFor, setGrantsFor] = useState<string | undefined>();
  const [grants, setGrants] = useState<Grant[] | undefined>();
  // The picker for platform admins once tenants exist; a tenant's admin's users land in its tenant.
  const tenants = useTenantChoice();
  // The tenant column once some user has a tenant (or tenants exist): without tenants it looks as before.
  const tenanted = tenants !== undefined || (list.data?.items.some((u) => u.tenant !== undefined && u.tenant !== null) ?? false);

  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      await manage('POST', '/users', { body: withTenant({ username: form.username.trim(), password: form.password }, form.tenant) });
      setForm((f) => ({ username: '', password: '', tenant: f.tenant }));
      list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const resetTotp = async (user: User) => {
    setError(undefined);
    setNotice(undefined);
    try {
      const path = `/users/${encodeURIComponent(user.username)}`;
      const current = await manage<User>('GET', path);
      await manage('PUT', path, { body: { totp: false }, ifMatch: current.etag });
      setNotice(`Two-factor sign-in of ${user.username} is off: they sign in with their password alone, and can set it up again.`);
      list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const savePassword = async (event: Event) => {
    event.preventDefault();
    if (passwordFor === undefined) return;
    setError(undefined);
    setNotice(undefined);
    try {
      await manage('POST', `/users/${encodeURIComponent(passwordFor)}/password`, { body: { password: newPassword } });
      setNotice(`Password of ${passwordFor} set. Applications they had signed in to will ask them to sign in again.`);
      setPasswordFor(undefined);
      setNewPassword('');
    } catch (e) {
      setError(e as Error);
    }
  };
  const showGrants = async (username: string, after?: string) => {
    setError(undefined);
    setNotice(after);
    setGrantsFor(username);
    setGrants(undefined);
    try {
      setGrants((await manage<{ items: Grant[] }>('GET', `/users/${encodeURIComponent(username)}/grants`)).body.items);
    } catch (e) {
      setError(e as Error);
    }
  };
  const revokeGrant = async (username: string, grant: Grant) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await manage('DELETE', `/users/${encodeURIComponent(username)}/grants/${encodeURIComponent(grant.id)}`);
      await showGrants(username, `Access of ${grant.clientName ?? grant.clientId} to ${username}'s account revoked: its tokens no longer work.`);
    } catch (e) {
      setError(e as Error);
    }
  };
  const toggle = async (user: User) => {
    setError(undefined);
    try {
      const path = `/users/${encodeURIComponent(user.username)}`;
      const current = await manage<User>('GET', path);
      await manage('PUT', path, { body: { disabled: !current.body.disabled }, ifMatch: current.etag });
      list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <div class="screen" data-state={list.loading ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Users</h1>
      </div>
      <p class="muted small">People who sign in to the embedded authorization server (for APIs with an oauth2 plan). A user gets tokens for the APIs of its own tenant only. Changes apply at once, without a deployment.</p>
      <div class="console-grid">
        <Panel title="Users" id="users">
          <Failure error={error ?? list.error} />
          {notice && (
            <p class="notice" role="status">
              {notice}
            </p>
          )}
          {list.data?.items.length === 0 && <p class="empty">No users yet.</p>}
          {list.data && list.data.items.length > 0 && (
            <table class="table" aria-label="Users">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  {tenanted && <th scope="col">Tenant</th>}
                  <th scope="col">Created</th>
                  <th scope="col">2FA</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((u) => (
                  <tr key={u.id} data-user={u.username} data-disabled={String(u.disabled)} data-totp={String(u.totp === true)}>
                    <th scope="row">{u.username}</th>
                    {tenanted && <td data-col="tenant">{u.tenant ?? 'default'}</td>}
                    <td class="nowrap">{time(u.createdAt)}</td>
                    <td data-col="totp">
                      <div class="form-actions">
                        <span class={`badge ${u.totp ? 'badge-ok' : 'badge-up-idle'}`} title={u.totp ? 'Signs in with a code from an authenticator app' : 'Password only'}>
                          {u.totp ? 'on' : 'off'}
                        </span>
                        {u.totp && (
                          <button type="button" class="button" onClick={() => resetTotp(u)} aria-label={`Reset 2FA of user ${u.username}`}>
                            Reset 2FA
                          </button>
                        )}
                      </div>
                    </td>
                    <td>
                      {/* No aria-label naming "password" here: it would be one more "Password" field to assistive tech. */}
                      <div class="form-actions">
                        <button type="button" class="button" onClick={() => (setPasswordFor(u.username), setNewPassword(''), setNotice(undefined))} data-action="set-password">
                          Set password
                        </button>
                        <button type="button" class="button" onClick={() => showGrants(u.username)} aria-label={`Grants of user ${u.username}`}>
                          Grants
                        </button>
                        <span class={`badge ${u.disabled ? 'badge-error' : 'badge-ok'}`}>{u.disabled ? 'disabled' : 'active'}</span>
                        <button type="button" class="button" onClick={() => toggle(u)} aria-label={`${u.disabled ? 'Enable' : 'Disable'} user ${u.username}`}>
                          {u.disabled ? 'Enable' : 'Disable'}
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {grantsFor !== undefined && (
            <section class="form" aria-label={`Grants of ${grantsFor}`} data-grants-for={grantsFor} data-state={grants === undefined ? 'loading' : 'ready'}>
              <h3>Applications {grantsFor} authorized</h3>
              {grants?.length === 0 && <p class="empty">No application has access to this account.</p>}
              {grants && grants.length > 0 && (
                <table class="table" aria-label={`Applications ${grantsFor} authorized`}>
                  <thead>
                    <tr>
                      <th scope="col">Application</th>
                      <th scope="col">API</th>
                      <th scope="col">Scopes</th>
                      <th scope="col">Authorized</th>
                      <th scope="col">Last used</th>
                      <th scope="col" />
                    </tr>
                  </thead>
                  <tbody>
                    {grants.map((g) => (
                      <tr key={g.id} data-grant={g.id}>
                        <th scope="row" title={g.clientId}>
                          {g.clientName ?? g.clientId}
                        </th>
                        <td title={g.resource}>{g.api ?? g.resource}</td>
                        <td>{g.scopes.join(' ')}</td>
                        <td class="nowrap">{time(g.createdAt)}</td>
                        <td class="nowrap">{time(g.lastUsedAt)}</td>
                        <td>
                          <button type="button" class="button" onClick={() => revokeGrant(grantsFor, g)} aria-label={`Revoke grant of ${g.clientName ?? g.clientId}`}>
                            Revoke
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <div class="form-actions">
                <button type="button" class="button" onClick={() => (setGrantsFor(undefined), setGrants(undefined))}>
                  Close
                </button>
              </div>
            </section>
          )}
          {passwordFor !== undefined && (
            <form class="form" onSubmit={savePassword} aria-label="Set password" autocomplete="off">
              <h3>Set the password of {passwordFor}</h3>
              <div class="field form-field">
                <label class="field-label" for="user-new-password">
                  New password
                </label>
                <input id="user-new-password" type="password" autocomplete="new-password" minLength={8} value={newPassword} onInput={(e) => setNewPassword((e.currentTarget as HTMLInputElement).value)} required />
                <span class="hint">At least 8 characters. Tell the user over a safe channel; their earlier sign-ins end.</span>
              </div>
              <div class="form-actions">
                <button type="submit" class="button primary">
                  Set password
                </button>
                <button type="button" class="button" onClick={() => setPasswordFor(undefined)}>
                  Cancel
                </button>
              </div>
            </form>
          )}
        </Panel>
        <form class="panel form" onSubmit={create} aria-label="New user" autocomplete="off">
          <h2>New user</h2>
          <TextField id="user-name" label="Username" value={form.username} onInput={(username) => setForm((f) => ({ ...f, username }))} required />
          <div class="field form-field">
            <label class="field-label" for="user-password">
              Password
            </label>
            <input id="user-password" type="password" autocomplete="new-password" value={form.password} onInput={(e) => setForm((f) => ({ ...f, password: (e.currentTarget as HTMLInputElement).value }))} required />
            <span class="hint">Stored as a hash; never shown.</span>
          </div>
          {tenants && <TenantSelect id="user-tenant" options={tenants} value={form.tenant} onChange={(tenant) => setForm((f) => ({ ...f, tenant }))} />}
          <div class="form-actions">
            <button type="submit" class="button primary">
              Create user
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
