// The JSON Schema of the config file, generated from the zod schema (published as
// schema/gatehouse.schema.json; `npm test` fails when the file drifts from the code).
import { z } from 'zod';
import { Config } from './schema.ts';
import { DURATION_PATTERN, SIZE_PATTERN } from './units.ts';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Config, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def as { type: string; defaultValue?: unknown };
      // zod leaves out defaults of fields whose input is transformed (durations, sizes); the
      // default is a valid input too (milliseconds, bytes), so publish it.
      if (def.type === 'default' && jsonSchema.default === undefined) jsonSchema.default = JSON.parse(JSON.stringify(def.defaultValue)) as unknown;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  }) as Record<string, unknown>;
  // Durations and sizes accept a number or a string with a unit; say which strings, so that
  // editors flag "30 seconds" as they type.
  const defs = (schema.$defs ?? {}) as Record<string, Record<string, unknown>>;
  if (defs.Duration) {
    defs.Duration = {
      description: defs.Duration.description,
      anyOf: [
        { type: 'number', minimum: 0 },
        { type: 'string', pattern: caseless(DURATION_PATTERN.source) },
      ],
    };
  }
  if (defs.Size) {
    defs.Size = {
      description: defs.Size.description,
      anyOf: [
        { type: 'integer', exclusiveMinimum: 0 },
        { type: 'string', pattern: caseless(SIZE_PATTERN.source) },
      ],
    };
  }
  return { ...schema, $id: 'https://gatehouse.dev/schema/gatehouse.schema.json', title: 'Gatehouse configuration' };
}

/** JSON Schema patterns have no flags: spell an /i regex's letters as [aA] (escapes kept). */
function caseless(source: string): string {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      out += char + (source[i + 1] ?? '');
      i++;
    } else if (/[a-z]/i.test(char)) {
      out += `[${char.toLowerCase()}${char.toUpperCase()}]`;
    } else {
      out += char;
    }
  }
  return out;
}
