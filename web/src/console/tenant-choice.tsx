// The tenant of a new or edited server or API, for platform admins once tenants exist. A
// tenant's admin gets no picker: the API puts what it makes in its own tenant.
import { isPlatform, type Meta } from '../api.ts';
import { useApi } from '../use-api.ts';
import { Select } from '../components/bits.tsx';
import { useManaged } from './use-managed.ts';
import { tenantName } from './model.ts';

/** The tenant ids to choose from ('' is the built-in default tenant), or undefined: no picker. */
export function useTenantChoice(): string[] | undefined {
  const meta = useApi<Meta>('/api/meta');
  const platform = isPlatform(meta.data);
  const tenants = useManaged<{ items: Array<{ id: string }> }>(platform ? '/tenants' : undefined);
  const ids = tenants.data?.items.map((t) => t.id) ?? [];
  return platform && ids.length > 0 ? ['', ...ids] : undefined;
}

/** Whether an object with this `tenant` field belongs to the chosen tenant ('' is the default). */
export const inTenant = (tenant: unknown, chosen: string): boolean => (tenantName(tenant) ?? '') === chosen;

/** An object's fields with the chosen tenant (none for the default tenant). */
export function withTenant(fields: Record<string, unknown>, chosen: string): Record<string, unknown> {
  const { tenant: _tenant, ...rest } = fields;
  return chosen === '' ? rest : { ...rest, tenant: chosen };
}

export function TenantSelect({ id, options, value, onChange }: { id: string; options: string[]; value: string; onChange(value: string): void }) {
  return <Select id={id} label="Tenant" value={value} options={options.map((t) => [t, t === '' ? 'default (built-in)' : t])} onChange={onChange} />;
}
