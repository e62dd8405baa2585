// Compiled ACL rules and the decision: deny overrides allow; nothing matching means denied.
import type { AclConfig } from './schema.ts';
import { compilePattern, type NameMatcher } from './pattern.ts';
import { compileCondition, type Condition, type ConditionContext } from './condition.ts';
import { compileArgumentConstraints, type ArgumentCheck } from './arguments.ts';

interface CompiledFeature {
  readonly methods: ReadonlySet<string>;
  readonly match: NameMatcher;
  readonly checkArguments: ArgumentCheck | undefined;
}

interface CompiledRule {
  readonly label: string;
  readonly effect: 'allow' | 'deny';
  readonly features: readonly CompiledFeature[];
  readonly condition: Condition | undefined;
}

export interface Decision {
  readonly allowed: boolean;
  /** The rule that decided, or undefined when no rule matched. */
  readonly rule: string | undefined;
  /** Argument constraint violation (allowed is false then). */
  readonly invalidArguments?: string;
  /** The deciding deny rule's condition failed at run time: it applied anyway (fail closed). */
  readonly conditionFailed?: boolean;
}

/** A problem at compile time, with the path inside the acl config. */
export class AclCompileError extends Error {
  constructor(readonly path: (string | number)[], message: string) {
    super(message);
  }
}

/** Decisions remembered per principal; past this many names the memory starts again. */
const REMEMBERED_PER_PRINCIPAL = 2000;

export class CompiledAcl {
  private readonly rules: readonly CompiledRule[];
  /**
   * Decisions that depend only on the principal, the method and the name, per principal object:
   * principals are immutable and rebuilt when what they carry changes (auth/api-key.ts), and a
   * new config compiles a new CompiledAcl. A list of N items costs N map lookups, not N walks
   * of the rules with their conditions.
   */
  private readonly remembered = new WeakMap<object, Map<string, Decision>>();
  /** Methods some rule could allow (for capability trimming and tasks). */
  readonly grantable: ReadonlySet<string>;

  constructor(config: AclConfig) {
    const grantable = new Set<string>();
    this.rules = config.rules.map((rule, r) => {
      const features = rule.features.map((feature, f): CompiledFeature => {
        let match: NameMatcher;
        try {
          match = compilePattern(feature.pattern);
        } catch (error) {
          throw new AclCompileError(['rules', r, 'features', f, 'pattern', 'value'], (error as Error).message);
        }
        let checkArguments: ArgumentCheck | undefined;
        try {
          checkArguments = feature.arguments ? compileArgumentConstraints(feature.arguments) : undefined;
        } catch (error) {
          throw new AclCompileError(['rules', r, 'features', f, 'arguments'], (error as Error).message);
        }
        if (rule.effect === 'allow') for (const m of feature.methods) grantable.add(m);
        return { methods: new Set(feature.methods), match, checkArguments };
      });
      let condition: Condition | undefined;
      if (rule.condition !== undefined) {
        try {
          condition = compileCondition(rule.condition);
        } catch (error) {
          throw new AclCompileError(['rules', r, 'condition'], `invalid CEL condition: ${(error as Error).message}`);
        }
      }
      return { label: rule.name ?? `rules[${r}]`, effect: rule.effect, features, condition };
    });
    this.grantable = grantable;
    this.readsPerRequest = this.rules.some((rule) => rule.condition?.dynamic === true);
  }

  /** Some rule's condition reads the request, the clock or the arguments (Condition.dynamic). */
  readonly readsPerRequest: boolean;

  /**
   * Decides one (method, name) pair. `ctx` is built by the caller once per message; its
   * mcp.name/uri must be the item being decided (list filtering decides per item).
   */
  decide(method: string, name: string, ctx: ConditionContext, args?: Readonly<Record<string, unknown>>): Decision {
    return this.walk(method, name, ctx, args, { dynamic: false });
  }

  /**
   * decide(), remembered for `principal` when no rule that took part reads per-request values
   * (see Condition.dynamic) or checked arguments. `context` is built only when rules run.
   */
  decideFor(principal: object, method: string, name: string, context: () => ConditionContext, args?: Readonly<Record<string, unknown>>, variant?: string): Decision {
    let known = this.remembered.get(principal);
    // `variant`: what else the context says about the name (a federated API's server and original name).
    const key = variant === undefined ? `${method}\n${name}` : `${method}\n${name}\n${variant}`;
    const found = known?.get(key);
    if (found !== undefined) return found;
    const seen = { dynamic: false };
    const decision = this.walk(method, name, context(), args, seen);
    if (!seen.dynamic) {
      if (known === undefined) this.remembered.set(principal, (known = new Map()));
      else if (known.size >= REMEMBERED_PER_PRINCIPAL) known.clear();
      known.set(key, decision);
    }
    return decision;
  }

  /** The decision; `seen.dynamic` is set when a rule that took part read per-request values or checked arguments. */
  private walk(method: string, name: string, ctx: ConditionContext, args: Readonly<Record<string, unknown>> | undefined, seen: { dynamic: boolean }): Decision {
    let allowRule: string | undefined;
    let invalid: { rule: string; problem: string } | undefined;
    for (const rule of this.rules) {
      const feature = rule.features.find((f) => f.methods.has(method) && f.match(name));
      if (!feature) continue;
      if (rule.condition) {
        if (rule.condition.dynamic) seen.dynamic = true;
        const holds = rule.condition(ctx);
        // A condition that fails at run time (a missing map key) resolves toward refusal: a deny
        // rule applies, an allow rule does not. Otherwise a deny rule on, say, a label some
        // agents lack would silently let those agents through.
        if (holds === undefined && rule.effect === 'deny') return { allowed: false, rule: rule.label, conditionFailed: true };
        if (holds !== true) continue;
      }
      if (rule.effect === 'deny') return { allowed: false, rule: rule.label };
      if (allowRule !== undefined) continue;
      if (args && feature.checkArguments) seen.dynamic = true;
      const problem = args && feature.checkArguments ? feature.checkArguments(args) : undefined;
      if (problem) invalid ??= { rule: rule.label, problem };
      else allowRule = rule.label;
    }
    if (allowRule !== undefined) return { allowed: true, rule: allowRule };
    if (invalid) return { allowed: false, rule: invalid.rule, invalidArguments: invalid.problem };
    return { allowed: false, rule: undefined };
  }
}
