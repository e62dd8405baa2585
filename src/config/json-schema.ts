// The JSON Schema of the config file, generated from the zod schema (published as
// schema/gatehouse.schema.json; a test fails when the file drifts from the code).
import { z } from 'zod';
import { Config } from './schema.ts';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Config, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://gatehouse.dev/schema/gatehouse.schema.json', title: 'Gatehouse configuration' };
}
