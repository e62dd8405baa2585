// Opens the configured store. Each backend is loaded only when chosen, so a machine without the
// native SQLite module can still run on Postgres, and the other way round.
import type { Store } from './store.ts';

export type StoreSpec = { type: 'sqlite'; file: string } | { type: 'postgres'; url: string; schema?: string };

export async function openStore(spec: StoreSpec): Promise<Store> {
  switch (spec.type) {
    case 'sqlite': {
      const { openSqliteStore } = await import('./sqlite.ts');
      return openSqliteStore(spec.file);
    }
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres.ts');
      return openPostgresStore(spec.url, spec.schema === undefined ? {} : { schema: spec.schema });
    }
  }
}
