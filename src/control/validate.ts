// Checks the console makes as an operator types, with the same code the configuration uses: a
// CEL condition is compiled by the policy's own compiler (src/policy/acl/condition.ts), so what
// the console calls valid is exactly what a deploy accepts. Nothing is stored or changed.
import { compileCondition } from '../policy/acl/condition.ts';
import { badRequest, notFound } from './errors.ts';
import { jsonBody, methodNotAllowed, reply, type Call } from './http.ts';

/** Longest expression checked; the config's own limits (AST nodes, depth) apply beyond this. */
const MAX_EXPRESSION_CHARS = 8192;

export interface CelCheck {
  readonly valid: boolean;
  /** The compiler's message (as `gatehouse check` words it after "invalid CEL condition: "). */
  readonly error?: string;
  /** 1-based column of the problem in the expression, when the compiler names one. */
  readonly column?: number;
}

export function checkCel(expression: string): CelCheck {
  try {
    compileCondition(expression);
    return { valid: true };
  } catch (error) {
    const message = (error as Error).message;
    const column = /\(at column (\d+)\)/.exec(message)?.[1];
    return column === undefined ? { valid: false, error: message } : { valid: false, error: message, column: Number(column) };
  }
}

export async function validateResource(call: Call): Promise<void> {
  const [, what, ...rest] = call.segments;
  if (what !== 'cel' || rest.length > 0) throw notFound(`/api/v1/${call.segments.join('/')}`);
  if (call.method !== 'POST') methodNotAllowed(call, 'POST');
  const { expression } = await jsonBody(call);
  if (typeof expression !== 'string') throw badRequest('expression: required field is missing (expected string)', [{ field: 'expression', message: 'required field is missing (expected string)' }]);
  if (expression.length > MAX_EXPRESSION_CHARS) throw badRequest(`expression: expected at most ${MAX_EXPRESSION_CHARS} characters`, [{ field: 'expression', message: `expected at most ${MAX_EXPRESSION_CHARS} characters` }]);
  return reply(call, 200, checkCel(expression));
}
