// Declarative argument constraints for tools/call: allow-list, regex, numeric range, max length.
// A violation names the argument and the constraint it broke.
import type { ArgumentConstraintConfig } from './schema.ts';
import { assertSafeRegex } from './pattern.ts';

export type ArgumentCheck = (args: Readonly<Record<string, unknown>>) => string | undefined;

export function compileArgumentConstraints(constraints: Readonly<Record<string, ArgumentConstraintConfig>>): ArgumentCheck {
  const checks = Object.entries(constraints).map(([name, c]) => compileOne(name, c));
  return (args) => {
    for (const check of checks) {
      const problem = check(args);
      if (problem) return problem;
    }
    return undefined;
  };
}

function compileOne(name: string, c: ArgumentConstraintConfig): ArgumentCheck {
  let regex: RegExp | undefined;
  if (c.regex !== undefined) {
    assertSafeRegex(c.regex);
    regex = new RegExp(`^(?:${c.regex})$`, 'u');
  }
  const allowed = c.enum ? new Set<unknown>(c.enum) : undefined;
  const label = JSON.stringify(name);
  return (args) => {
    if (!Object.prototype.hasOwnProperty.call(args, name) || args[name] === undefined) {
      return c.required ? `argument ${label} is required` : undefined;
    }
    const value = args[name];
    if (allowed && !allowed.has(value as string | number | boolean)) {
      return `argument ${label} must be one of ${[...allowed].map((v) => JSON.stringify(v)).join(', ')}`;
    }
    if (regex) {
      if (typeof value !== 'string') return `argument ${label} must be a string matching ${c.regex}`;
      if (value.length > 4096 || !regex.test(value)) return `argument ${label} must match ${c.regex}`;
    }
    if (c.min !== undefined || c.max !== undefined) {
      if (typeof value !== 'number' || Number.isNaN(value)) return `argument ${label} must be a number`;
      if (c.min !== undefined && value < c.min) return `argument ${label} must be at least ${c.min}`;
      if (c.max !== undefined && value > c.max) return `argument ${label} must be at most ${c.max}`;
    }
    if (c.maxLength !== undefined) {
      const length = typeof value === 'string' ? [...value].length : Array.isArray(value) ? value.length : undefined;
      if (length === undefined) return `argument ${label} must be a string or a list`;
      if (length > c.maxLength) return `argument ${label} must be at most ${c.maxLength} ${typeof value === 'string' ? 'characters' : 'items'} long`;
    }
    return undefined;
  };
}
