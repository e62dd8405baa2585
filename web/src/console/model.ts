// What the console edits, as the management API returns it (entries of the managed document),
// and the Policy Studio's editable form of an ACL, converted to and from the config's ACL format
// (src/policy/acl/schema.ts) without losing what the studio does not edit (argument constraints).
import { FEATURE_METHODS, PATTERN_TYPES, type FeatureType, type PatternType } from '../../../src/policy/acl/methods.ts';

export { FEATURE_METHODS, PATTERN_TYPES, type FeatureType, type PatternType };

export type ServerEntry = { name: string; etag?: string } & Record<string, unknown>;
export type ApiEntry = { name: string; path: string; server?: string; servers?: string[]; auth?: unknown; policies?: PolicyEntry[]; etag?: string } & Record<string, unknown>;
export type PolicyEntry = { acl: AclConfig } | Record<string, unknown>;

export interface Pattern {
  type: PatternType;
  value?: string;
}
export interface FeatureConfig {
  type: FeatureType;
  methods: string[];
  pattern?: Pattern;
  arguments?: Record<string, unknown>;
}
export interface RuleConfig {
  name?: string;
  effect?: 'allow' | 'deny';
  features: FeatureConfig[];
  condition?: string;
}
export interface AclConfig {
  rules?: RuleConfig[];
}

export const FEATURE_LABELS: Record<FeatureType, string> = { tools: 'Tools', resources: 'Resources', prompts: 'Prompts' };
export const PATTERN_LABELS: Record<PatternType, string> = { any: 'Any', literal: 'Literal', glob: 'Glob', regex: 'Regex' };
const FEATURE_TYPES = Object.keys(FEATURE_METHODS) as FeatureType[];

/** One feature of a rule in the studio: a feature with no method ticked is left out on save. */
export interface FeatureDraft {
  type: FeatureType;
  methods: string[];
  patternType: PatternType;
  patternValue: string;
  /** Argument constraints from the config: kept as they are. */
  arguments?: Record<string, unknown> | undefined;
}

export interface RuleDraft {
  /** Stable identity for lists and drag and drop (not saved). */
  key: string;
  name: string;
  effect: 'allow' | 'deny';
  condition: string;
  features: FeatureDraft[];
}

let nextKey = 0;
const newKey = () => `rule-${++nextKey}`;

const emptyFeature = (type: FeatureType): FeatureDraft => ({ type, methods: [], patternType: 'any', patternValue: '' });

/** Every feature type shows at least once, in the order Tools, Resources, Prompts. */
function withEveryType(features: FeatureDraft[]): FeatureDraft[] {
  const all = [...features];
  for (const type of FEATURE_TYPES) if (!all.some((f) => f.type === type)) all.push(emptyFeature(type));
  return all.sort((a, b) => FEATURE_TYPES.indexOf(a.type) - FEATURE_TYPES.indexOf(b.type));
}

export function newRule(): RuleDraft {
  return { key: newKey(), name: '', effect: 'allow', condition: '', features: withEveryType([]) };
}

export function rulesFromConfig(acl: AclConfig): RuleDraft[] {
  return (acl.rules ?? []).map((rule) => ({
    key: newKey(),
    name: rule.name ?? '',
    effect: rule.effect ?? 'allow',
    condition: rule.condition ?? '',
    features: withEveryType(
      rule.features.map((f) => ({
        type: f.type,
        methods: [...f.methods],
        patternType: f.pattern?.type ?? 'any',
        patternValue: f.pattern?.value ?? '',
        arguments: f.arguments,
      })),
    ),
  }));
}

export function rulesToConfig(rules: readonly RuleDraft[]): AclConfig {
  return {
    rules: rules.map((rule) => {
      const out: RuleConfig = {
        ...(rule.name.trim() ? { name: rule.name.trim() } : {}),
        effect: rule.effect,
        features: rule.features
          .filter((f) => f.methods.length > 0)
          .map((f) => ({
            type: f.type,
            // In the config's order, whatever order they were ticked in.
            methods: FEATURE_METHODS[f.type].filter((m) => f.methods.includes(m)),
            pattern: f.patternType === 'any' ? { type: 'any' } : { type: f.patternType, value: f.patternValue },
            ...(f.arguments ? { arguments: f.arguments } : {}),
          })),
      };
      if (rule.condition.trim()) out.condition = rule.condition.trim();
      return out;
    }),
  };
}

/** Problems the server would refuse, said before saving: a rule needs a method, a pattern a value. */
export function draftProblems(rules: readonly RuleDraft[]): string[] {
  const problems: string[] = [];
  rules.forEach((rule, i) => {
    const label = rule.name.trim() || `Rule ${i + 1}`;
    const used = rule.features.filter((f) => f.methods.length > 0);
    if (used.length === 0) problems.push(`${label}: tick at least one method`);
    for (const f of used) if (f.patternType !== 'any' && f.patternValue === '') problems.push(`${label}: ${FEATURE_LABELS[f.type]}: give the ${PATTERN_LABELS[f.patternType].toLowerCase()} pattern's value`);
  });
  return problems;
}

export function isAcl(policy: PolicyEntry): policy is { acl: AclConfig } {
  return typeof policy === 'object' && policy !== null && 'acl' in policy;
}

/** A server's transport as the console shows it. */
export function transportOf(server: Record<string, unknown>): 'http' | 'stdio' | 'sse' {
  if (typeof server.command === 'string') return 'stdio';
  if (typeof server.sse === 'string') return 'sse';
  return 'http';
}

export function targetOf(server: Record<string, unknown>): string {
  if (typeof server.command === 'string') return [server.command, ...(Array.isArray(server.args) ? server.args.map(String) : [])].join(' ');
  return String(server.url ?? server.sse ?? '');
}

/** The plan (auth) as the console edits it: keyless, api-key, or another kept as it is. */
export function planOf(auth: unknown): 'keyless' | 'api-key' | 'other' {
  if (auth === undefined) return 'keyless';
  if (typeof auth === 'object' && auth !== null && !Array.isArray(auth)) {
    const type = (auth as { type?: unknown }).type;
    if (type === 'keyless' || type === 'api-key') return type;
  }
  return 'other';
}

/** The tenant an object names, or undefined for the built-in default tenant (named or not). */
export const tenantName = (tenant: unknown): string | undefined => (typeof tenant === 'string' && tenant !== 'default' ? tenant : undefined);
