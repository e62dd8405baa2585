// Config schema of the ACL policy (compatible in spirit with Gravitee's MCP ACL): rules naming
// features (tools, resources, prompts), the methods they authorize, a name pattern, an optional
// CEL condition, optional argument constraints, and an effect.
import { z } from 'zod';
import { assertSafeRegex } from './pattern.ts';
import { compileCondition } from './condition.ts';
import { checkUriTemplate } from './uri.ts';

import { FEATURE_METHODS } from './methods.ts';

export { FEATURE_METHODS, type FeatureType } from './methods.ts';

export const PatternSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('any') }),
    z.strictObject({ type: z.literal('literal'), value: z.string() }),
    z.strictObject({ type: z.literal('glob'), value: z.string().min(1).meta({ description: '`*` matches any run of characters except "/", `**` any run, `?` one character except "/", `\\` makes the next character literal (`\\?`).' }) }),
    z.strictObject({ type: z.literal('regex'), value: z.string().min(1).max(512).superRefine(checkRegex).meta({ description: 'Anchored at both ends; patterns prone to catastrophic backtracking are refused.' }) }),
  ])
  .meta({ description: 'Matches the tool or prompt name, or the resource URI (templates: the URI template).' });

function checkRegex(source: string, ctx: z.RefinementCtx): void {
  try {
    assertSafeRegex(source);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `expected a safe regular expression: ${(error as Error).message}` });
  }
}

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

export const ArgumentConstraintSchema = z
  .strictObject({
    required: z.boolean().optional(),
    enum: z.array(Scalar).min(1).optional().meta({ description: 'Allow-list of values.' }),
    regex: z.string().max(512).superRefine(checkRegex).optional().meta({ description: 'String values must match (anchored).' }),
    min: z.number().optional(),
    max: z.number().optional(),
    maxLength: z.number().int().nonnegative().optional().meta({ description: 'Longest string (characters) or list (items).' }),
  })
  .meta({ description: 'Constraints on one tool argument; violations are refused with invalid params (-32602) naming the argument.' });

export const FeatureSchema = z
  .strictObject({
    type: z.enum(['tools', 'resources', 'prompts']),
    methods: z.array(z.string()).min(1),
    pattern: PatternSchema.default({ type: 'any' }),
    arguments: z.record(z.string(), ArgumentConstraintSchema).optional().meta({ description: 'tools only: constraints per argument, checked on tools/call.' }),
  })
  .superRefine((feature, ctx) => {
    const allowed: readonly string[] = FEATURE_METHODS[feature.type];
    feature.methods.forEach((method, index) => {
      if (!allowed.includes(method)) {
        ctx.addIssue({ code: 'custom', path: ['methods', index], message: `"${method}" is not a ${feature.type} method; expected one of ${allowed.join(', ')}` });
      }
    });
    if (feature.arguments && feature.type !== 'tools') {
      ctx.addIssue({ code: 'custom', path: ['arguments'], message: 'argument constraints apply to tools only' });
    }
    if (feature.type === 'resources') checkResourcePattern(feature.pattern, ctx);
  });

/**
 * Resource URIs reach the rules in canonical form only (see uri.ts): a literal in another form,
 * or a glob whose scheme is not lower case, would never match — a silent hole in a deny rule.
 */
function checkResourcePattern(pattern: PatternConfig, ctx: z.RefinementCtx): void {
  if (pattern.type === 'literal') {
    const check = checkUriTemplate(pattern.value);
    if (!check.ok) {
      const fix = check.canonical === undefined ? '' : `; write "${check.canonical}"`;
      ctx.addIssue({ code: 'custom', path: ['pattern', 'value'], message: `expected a resource URI (or URI template) in canonical form: "${pattern.value}" ${check.reason}${fix}` });
    }
  } else if (pattern.type === 'glob') {
    const scheme = /^([^:*?/]+):/.exec(pattern.value)?.[1];
    if (scheme !== undefined && scheme !== scheme.toLowerCase()) {
      ctx.addIssue({ code: 'custom', path: ['pattern', 'value'], message: `expected the URI scheme in lower case, as resource URIs are matched in canonical form: write "${scheme.toLowerCase()}:${pattern.value.slice(scheme.length + 1)}"` });
    }
  }
}

export const RuleSchema = z.strictObject({
  name: z.string().optional().meta({ description: 'Shown in decision traces (default: rules[N]).' }),
  effect: z.enum(['allow', 'deny']).default('allow').meta({ description: 'deny overrides allow.' }),
  features: z.array(FeatureSchema).min(1),
  condition: z
    .string()
    .superRefine((source, ctx) => {
      try {
        compileCondition(source);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `invalid CEL condition: ${(error as Error).message}` });
      }
    })
    .optional()
    .meta({ description: 'CEL expression of type bool over agent, user, claims, request, mcp, now (docs/policies.md); the rule applies only when it is true. Type-checked when the config loads: an unknown field or a non-bool expression is refused.' }),
});

export const AclPolicySchema = z
  .strictObject({
    acl: z.strictObject({
      rules: z.array(RuleSchema).default([]).meta({ description: 'No rules: nothing is allowed (lists empty, calls refused).' }),
    }),
  })
  .meta({ title: 'ACL policy' });

export type AclConfig = z.output<typeof AclPolicySchema>['acl'];
export type RuleConfig = z.output<typeof RuleSchema>;
export type FeatureConfig = z.output<typeof FeatureSchema>;
export type PatternConfig = z.output<typeof PatternSchema>;
export type ArgumentConstraintConfig = z.output<typeof ArgumentConstraintSchema>;
