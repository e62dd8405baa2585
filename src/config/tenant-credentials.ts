// Which tenant a stored upstream credential belongs to: one named "<tenant>.<rest>" belongs to
// that tenant when it is declared; every other name to the default tenant. A name, not a column,
// so that the credential store needs no new field and a tenant's servers can never name another
// tenant's secret (src/config/tenant-check.ts refuses it at load).
import { DEFAULT_TENANT } from './tenant-schema.ts';

export function credentialTenant(name: string, tenants: Iterable<string>): string {
  const dot = name.indexOf('.');
  if (dot <= 0) return DEFAULT_TENANT;
  const head = name.slice(0, dot);
  for (const tenant of tenants) if (tenant === head && tenant !== DEFAULT_TENANT) return tenant;
  return DEFAULT_TENANT;
}
