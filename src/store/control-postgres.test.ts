// Runs against GATEHOUSE_TEST_POSTGRES_URL in fresh random schemas, dropped afterwards.
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { controlStoreContract } from './control-contract.ts';
import { openPostgresControlStore } from './control-postgres.ts';
import { postgresRequirement } from '../../test/helpers/requirements.ts';

const postgres = postgresRequirement();
const url = postgres.url;

if (url === undefined) {
  test('postgres control store contract', { skip: postgres.skip }, () => postgres.check());
} else {
  const schemas: string[] = [];
  after(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await client.end();
  });
  controlStoreContract('postgres', () => {
    const schema = `gatehouse_ctl_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return openPostgresControlStore(url, schema);
  });
}
