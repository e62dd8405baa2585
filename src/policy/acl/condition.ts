// CEL conditions (@marcbachmann/cel-js), checked and compiled once at load. The context a
// condition sees is documented in docs/policies.md: agent, user, claims, request, mcp, now.
//
// Every condition is type-checked against that context with closed types, so a misspelt field
// (`agent.idd`) or a condition that is not a bool (`agent.id`) is a config error instead of a
// rule that silently never applies — on a `deny` rule, that would be a hole. Only what is free
// form by nature stays open: token claims, tool arguments, agent labels and request headers.
//
// Evaluation uses a second environment that sees the same variables as plain maps: with the
// checked types, the library would wrap every context object in a typed instance per evaluation,
// an allocation on every decision for no gain once the expression has been checked.
import { Environment, type ASTNode } from '@marcbachmann/cel-js';

export interface ConditionContext {
  agent: { id: string; kind: string; name: string; labels: Readonly<Record<string, string>>; tenant: string };
  user: { id: string; name: string };
  claims: Readonly<Record<string, unknown>>;
  request: { headers: Readonly<Record<string, unknown>>; address: string };
  mcp: { method: string; name: string; uri: string; arguments: Readonly<Record<string, unknown>>; server: string; originalName: string; tool: { annotations: Readonly<Record<string, boolean>> } };
  now: Date;
}

/**
 * True or false; undefined when the expression failed at run time (a missing key of a map, a
 * value of another type than expected). The caller decides what a failure means: deny rules fail
 * closed, allow rules do not apply (rules.ts).
 */
export type Condition = ((ctx: ConditionContext) => boolean | undefined) & {
  /**
   * Whether the value can change between two requests of one principal for the same method and
   * name: it reads the request, the clock or the call's arguments. A condition that reads only
   * agent, user, claims and mcp.method/name/uri decides the same way every time, so its decision
   * may be remembered (rules.ts).
   */
  readonly dynamic: boolean;
};

/** The closed objects of the context: variable → CEL type of each field. */
const OBJECTS: Readonly<Record<'agent' | 'user' | 'request' | 'mcp', Readonly<Record<string, string>>>> = {
  agent: { id: 'string', kind: 'string', name: 'string', labels: 'map<string, string>', tenant: 'string' },
  user: { id: 'string', name: 'string' },
  request: { headers: 'map<string, string>', address: 'string' },
  mcp: { method: 'string', name: 'string', uri: 'string', arguments: 'map<string, dyn>', server: 'string', originalName: 'string', tool: 'gatehouse.tool' },
};

/** Nested closed types: `mcp.tool` and the operator's annotations of the tool (toolAnnotations). */
// (In registration order: a type before the types that name it.)
const NESTED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'gatehouse.annotations': { readOnly: 'bool', destructive: 'bool', openWorld: 'bool', untrustedOutput: 'bool', exfiltration: 'bool' },
  'gatehouse.tool': { annotations: 'gatehouse.annotations' },
};

/** Free-form variables (claims) and the clock. */
const OPEN = { claims: 'map<string, dyn>', now: 'google.protobuf.Timestamp' } as const;

const OPTIONS = {
  unlistedVariablesAreDyn: false,
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
  limits: { maxAstNodes: 5000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 16 },
};

const typeName = (variable: string): string => `gatehouse.${variable}`;

const checker = new Environment(OPTIONS);
for (const [name, fields] of Object.entries(NESTED)) checker.registerType(name, { fields });
for (const [variable, fields] of Object.entries(OBJECTS)) checker.registerType(typeName(variable), { fields });
for (const variable of Object.keys(OBJECTS)) checker.registerVariable(variable, typeName(variable));
for (const [variable, type] of Object.entries(OPEN)) checker.registerVariable(variable, type);

const runtime = new Environment(OPTIONS);
for (const variable of Object.keys(OBJECTS)) runtime.registerVariable(variable, 'map');
for (const [variable, type] of Object.entries(OPEN)) runtime.registerVariable(variable, type);

const VARIABLES = [...Object.keys(OBJECTS), ...Object.keys(OPEN)];

/** Checked type name → how a message names it and its fields (the variables, and the nested types). */
const NESTED_LABELS: Readonly<Record<string, string>> = { 'gatehouse.tool': 'mcp.tool', 'gatehouse.annotations': 'mcp.tool.annotations' };
const FIELDS_OF_TYPE = new Map<string, { readonly label: string; readonly fields: Readonly<Record<string, string>> }>([
  ...Object.entries(OBJECTS).map(([variable, fields]) => [typeName(variable), { label: variable, fields }] as const),
  ...Object.entries(NESTED).map(([name, fields]) => [name, { label: NESTED_LABELS[name] ?? name, fields }] as const),
]);

/**
 * Compiles a condition; throws with a message naming the problem and its column when it does
 * not parse, does not type-check against the context, or is not a bool.
 */
export function compileCondition(source: string): Condition {
  let ast: ASTNode;
  try {
    const parsed = checker.parse(source);
    ast = parsed.ast;
    const checked = parsed.check();
    if (!checked.valid) throw checked.error ?? new Error('invalid expression');
    if (checked.type !== 'bool') {
      throw new Error(
        checked.type === 'dyn'
          ? 'the condition is of type dyn (known only at run time); a condition must be a bool: compare the value, e.g. `claims.admin == true`'
          : `the condition is of type ${checked.type}; a condition must be a bool, e.g. \`agent.id == "alice"\``,
      );
    }
  } catch (error) {
    throw new Error(describe(error));
  }
  // The library's checker lets unknown fields through inside has() and after `.?`: look for them.
  const unknown = unknownField(ast);
  if (unknown) throw new Error(unknown);
  const program = runtime.parse(source);
  const evaluate = (ctx: ConditionContext): boolean | undefined => {
    try {
      return program(ctx as unknown as Record<string, unknown>) === true;
    } catch {
      return undefined;
    }
  };
  return Object.assign(evaluate, { dynamic: readsPerRequest(ast) });
}

/** mcp fields that are the same for every request naming the same method and item (a federated
 * API's server and original name are part of the remembered decision's key: acl-policy.ts; a
 * tool's annotations follow from its server and original name and the config). */
const STATIC_MCP_FIELDS = new Set(['method', 'name', 'uri', 'server', 'originalName', 'tool']);

/**
 * Whether the expression reads `request`, `now`, or any of `mcp` but its method, name and uri.
 * Conservative: a macro variable that happens to be called `request` counts too.
 */
function readsPerRequest(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(readsPerRequest);
  if (!isNode(node)) return false;
  if (node.op === 'id') return node.args === 'request' || node.args === 'now' || node.args === 'mcp';
  if (node.op === '.' || node.op === '.?') {
    const [object, field] = node.args as [unknown, unknown];
    if (isNode(object) && object.op === 'id' && object.args === 'mcp') return typeof field !== 'string' || !STATIC_MCP_FIELDS.has(field);
  }
  return readsPerRequest(node.args);
}

/** The CEL error as one line: its summary, where it is, and for an unknown field the fields there are. */
function describe(error: unknown): string {
  const e = error as { summary?: string; message?: string; code?: string; range?: { start: number }; node?: ASTNode };
  if (e.code === 'no_such_key' && e.node) {
    const known = unknownFieldMessage(e.node);
    if (known) return known;
  }
  const summary = e.summary ?? e.message?.split('\n')[0] ?? String(error);
  const where = e.range ? ` (at column ${e.range.start + 1})` : '';
  const hint = /^Unknown variable/i.test(summary) ? `; the context has ${VARIABLES.join(', ')}` : '';
  return `${summary}${where}${hint}`;
}

/** Walks the checked tree for a field of a closed object that does not exist. */
function unknownField(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const child of node) {
      const found = unknownField(child);
      if (found) return found;
    }
    return undefined;
  }
  if (!isNode(node)) return undefined;
  return unknownFieldMessage(node) ?? unknownField(node.args);
}

function unknownFieldMessage(node: ASTNode): string | undefined {
  if (node.op !== '.' && node.op !== '.?' && node.op !== '[]' && node.op !== '[?]') return undefined;
  const [object, key] = node.args;
  const type = isNode(object) ? FIELDS_OF_TYPE.get((object as { checkedType?: { name?: string } }).checkedType?.name ?? '') : undefined;
  if (type === undefined) return undefined;
  const variable = type.label;
  const field = typeof key === 'string' ? key : isNode(key) && key.op === 'value' && typeof key.args === 'string' ? key.args : undefined;
  const fields = type.fields;
  if (field === undefined || field in fields) return undefined;
  const column = typeof key === 'string' ? node.end - key.length + 1 : (key as ASTNode).start + 1;
  return `unknown field \`${field}\` of \`${variable}\` (at column ${column}); \`${variable}\` has ${Object.keys(fields).join(', ')}`;
}

function isNode(value: unknown): value is ASTNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value;
}
