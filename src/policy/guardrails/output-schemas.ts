// The `outputSchema` of each tool, learned from the `tools/list` answers the policy passes on
// (as the bridges learn per-tool facts, `ToolBook` in src/bridge/tool-headers.ts), and a validator of a
// result's `structuredContent` against it (ajv, compiled once per distinct schema). A tool not
// listed through this node yet has no schema here, and its results are not validated: a list
// is not fetched for it (the call would wait on it; the next list teaches it).
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { isObject } from '../../mcp/jsonrpc.ts';

/** Bounds: names kept per policy, compiled schemas kept, and the size of a schema compiled. */
const MAX_TOOLS = 10_000;
const MAX_VALIDATORS = 1_000;
const MAX_SCHEMA_CHARS = 64 * 1024;

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };
const OK: Verdict = Object.freeze({ ok: true });

// `validateFormats: false`: formats are hints in JSON Schema 2020-12 unless a vocabulary asserts
// them; `addUsedSchema: false`: two servers' schemas with the same $id must not collide.
const OPTIONS = { strict: false, validateFormats: false, addUsedSchema: false, allErrors: false } as const;
const draft07 = new Ajv(OPTIONS);
const draft2020 = new Ajv2020(OPTIONS);

export class OutputSchemas {
  /** server + "\n" + tool name → the schema's JSON text (the key of its validator). */
  private readonly byTool = new Map<string, string>();
  private readonly validators = new Map<string, ValidateFunction | string>();

  /** Takes the tools of a `tools/list` result (one page) of `server`. */
  learn(server: string, result: unknown): void {
    if (!isObject(result) || !Array.isArray(result.tools)) return;
    for (const tool of result.tools) {
      if (!isObject(tool) || typeof tool.name !== 'string') continue;
      const key = `${server}\n${tool.name}`;
      if (!isObject(tool.outputSchema)) {
        this.byTool.delete(key);
        continue;
      }
      if (this.byTool.size >= MAX_TOOLS && !this.byTool.has(key)) this.byTool.clear();
      this.byTool.set(key, JSON.stringify(tool.outputSchema));
    }
  }

  /** Whether the tool declares an output schema (as far as the lists seen here tell). */
  has(server: string, tool: string): boolean {
    return this.byTool.has(`${server}\n${tool}`);
  }

  /** Checks a tool result against the tool's schema; OK when the tool has none known here. */
  check(server: string, tool: string, result: Record<string, unknown>): Verdict {
    const schema = this.byTool.get(`${server}\n${tool}`);
    if (schema === undefined || result.isError === true) return OK;
    if (result.structuredContent === undefined) return { ok: false, reason: 'the tool declares an outputSchema but the result has no structuredContent' };
    const validate = this.validator(schema);
    if (typeof validate === 'string') return { ok: false, reason: `the tool's outputSchema cannot be used: ${validate}` };
    if (validate(result.structuredContent)) return OK;
    const error = validate.errors?.[0];
    return { ok: false, reason: `structuredContent does not match the tool's outputSchema: ${error ? `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}` : 'invalid'}` };
  }

  private validator(schema: string): ValidateFunction | string {
    let validate = this.validators.get(schema);
    if (validate !== undefined) return validate;
    validate = compile(schema);
    if (this.validators.size >= MAX_VALIDATORS) this.validators.clear();
    this.validators.set(schema, validate);
    return validate;
  }
}

/** A validator, or why there is none (too large, or not a schema ajv can compile). */
function compile(text: string): ValidateFunction | string {
  if (text.length > MAX_SCHEMA_CHARS) return `larger than ${MAX_SCHEMA_CHARS} characters`;
  const schema = JSON.parse(text) as Record<string, unknown>;
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
  // MCP's default dialect is 2020-12; SDK-built servers often declare draft-07.
  // Another dialect (draft-04, 2019-09) is read as draft-07 without its $schema: close enough for
  // result shapes, and better than no check.
  const ajv = dialect === '' || dialect.includes('2020-12') ? draft2020 : draft07;
  if (dialect !== '' && !dialect.includes('2020-12') && !dialect.includes('draft-07')) delete schema.$schema;
  try {
    return ajv.compile(schema);
  } catch (error) {
    return (error as Error).message;
  }
}
