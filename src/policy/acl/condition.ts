// CEL conditions (@marcbachmann/cel-js), compiled once at load. The context a condition sees is
// documented in docs/acl.md: agent, user, claims, request, mcp (method, name, uri, arguments), now.
import { Environment } from '@marcbachmann/cel-js';

export interface ConditionContext {
  agent: { id: string; kind: string; name?: string | undefined; labels: Record<string, string>; tenant?: string | undefined };
  user: Record<string, unknown>;
  claims: Readonly<Record<string, unknown>>;
  request: { headers: Readonly<Record<string, unknown>>; address: string };
  mcp: { method: string; name?: string | undefined; uri?: string | undefined; arguments: Readonly<Record<string, unknown>> };
  now: Date;
}

export type Condition = (ctx: ConditionContext) => boolean;

const environment = new Environment({
  unlistedVariablesAreDyn: false,
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
  limits: { maxAstNodes: 5000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 16 },
})
  .registerVariable('agent', 'map')
  .registerVariable('user', 'map')
  .registerVariable('claims', 'map')
  .registerVariable('request', 'map')
  .registerVariable('mcp', 'map')
  .registerVariable('now', 'google.protobuf.Timestamp');

/** Compiles a condition; throws with the CEL error (position marked) when it does not parse or type-check. */
export function compileCondition(source: string): Condition {
  const checked = environment.check(source);
  if (!checked.valid) throw new Error(firstLine(checked.error?.message ?? 'invalid expression'));
  const program = environment.parse(source);
  return (ctx) => {
    try {
      // A condition that errors (a missing key, a wrong type at run time) does not apply.
      return program(ctx as unknown as Record<string, unknown>) === true;
    } catch {
      return false;
    }
  };
}

function firstLine(message: string): string {
  return message.split('\n').filter((l) => l.trim() !== '').join(' | ');
}
