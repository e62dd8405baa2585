// Opens the control plane's tables beside the configured store (the same SQLite file, or the
// same Postgres database and schema). Each backend is loaded only when chosen.
import type { ControlStore } from './control.ts';
import type { StoreSpec } from './open.ts';

export async function openControlStore(spec: StoreSpec): Promise<ControlStore> {
  switch (spec.type) {
    case 'sqlite': {
      const { openSqliteControlStore } = await import('./control-sqlite.ts');
      return openSqliteControlStore(spec.file);
    }
    case 'postgres': {
      const { openPostgresControlStore } = await import('./control-postgres.ts');
      return openPostgresControlStore(spec.url, spec.schema);
    }
  }
}
