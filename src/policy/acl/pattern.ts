// Name patterns, compiled once. Regexes are anchored and screened for the shapes that make
// backtracking explode (nested or overlapping quantifiers); names are length-capped before matching.
import type { PatternConfig } from './schema.ts';
import { globToRegExp } from '../../mcp/glob.ts';

export type NameMatcher = (name: string) => boolean;

const MAX_NAME = 2048;

export function compilePattern(pattern: PatternConfig): NameMatcher {
  switch (pattern.type) {
    case 'any':
      return () => true;
    case 'literal': {
      const value = pattern.value;
      return (name) => name === value;
    }
    case 'glob':
      return regexMatcher(globToRegExp(pattern.value));
    case 'regex':
      assertSafeRegex(pattern.value);
      return regexMatcher(new RegExp(`^(?:${pattern.value})$`, 'u'));
  }
}

function regexMatcher(regex: RegExp): NameMatcher {
  return (name) => name.length <= MAX_NAME && regex.test(name);
}

/**
 * Refuses regexes with a quantified group that itself contains a quantifier ((a+)+, (a*)*,
 * (a|a)+ …) or back-references: the classic catastrophic-backtracking shapes.
 */
export function assertSafeRegex(source: string): void {
  try {
    new RegExp(source, 'u');
  } catch (error) {
    throw new Error(`invalid regex: ${(error as Error).message}`);
  }
  if (/\\[1-9]/.test(source) || /\\k</.test(source)) throw new Error('back-references are not allowed in ACL patterns');
  // Find groups followed by a quantifier and check their content for quantifiers or alternation.
  const stack: number[] = [];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '(') stack.push(i);
    else if (c === ')') {
      const start = stack.pop() ?? 0;
      const next = source[i + 1];
      const quantified = next === '*' || next === '+' || next === '{' || (next === '?' && false);
      if (quantified) {
        const inner = source.slice(start + 1, i);
        if (/(^|[^\\])[*+{]/.test(inner) || /(^|[^\\])\|/.test(inner)) {
          throw new Error('nested quantifiers or quantified alternation can backtrack catastrophically; rewrite the pattern');
        }
      }
    }
  }
}
