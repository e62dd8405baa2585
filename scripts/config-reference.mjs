// Renders docs/configuration.md from the config's JSON Schema (schema/gatehouse.schema.json).
// Plain JavaScript so that scripts/check-schema.mjs can run it with no build step; used by
// scripts/write-schema.ts to write the file and by scripts/check-schema.mjs to detect drift.
//
// Layout: one `##` section per top-level field. Plain nested mappings are flattened into dotted
// rows (`timeouts.connect`); anything with structure of its own (a list of mappings, a mapping of
// names, a choice between kinds) gets a `###` subsection, linked from its row, in document order.

/** @typedef {Record<string, any>} Json */

const HEADER = `# Configuration reference

<!-- Generated from the config schema (src/config/) by \`npm run schema\`. Do not edit by hand: \`npm test\` fails when this file and the schema disagree. -->
`;

/**
 * @param {Json} schema the output of configJsonSchema()
 * @returns {string} Markdown
 */
export function renderConfigReference(schema) {
  const r = new Renderer(schema.$defs ?? {});
  r.slugs.next('Configuration reference');
  const out = [HEADER];
  out.push(
    'Gatehouse reads one YAML or JSON file: `gatehouse start --config FILE` runs it, `gatehouse check --config FILE`',
    'validates it and explains every problem with its file, line, field and what is expected. The same rules are',
    'published as a JSON Schema, [schema/gatehouse.schema.json](../schema/gatehouse.schema.json): put',
    '`# yaml-language-server: $schema=<path to that file>` on the first line of a YAML file for completion and checks in',
    'editors. Ready configs are in [examples/](../examples/).',
    '',
    r.slugs.heading(2, 'Conventions'),
    '',
    '- Every mapping is strict: a field that is not listed here is an error, not ignored.',
    '- `${env:NAME}` anywhere in a string value is replaced by the environment variable `NAME`; `${env:NAME:-fallback}`',
    '  uses `fallback` when `NAME` is unset. A variable that is unset and has no fallback is an error that names it.',
    '  Use it for secrets such as upstream tokens, so they stay out of the file. In a field that takes a number or',
    '  true/false (`port: ${env:PORT}`), the value is read as one; a value that is not is an error naming the variable.',
  );
  if (r.defs.Duration) out.push(`- **duration**: ${text(r.defs.Duration.description)}`);
  if (r.defs.Size) out.push(`- **size**: ${text(r.defs.Size.description)}`);
  out.push(
    '- A running Gatehouse watches its file (and reloads on `SIGHUP`): a valid change is applied without dropping',
    '  sessions; an invalid one is refused and logged, and the running configuration stays in force. Changes to',
    '  `listen` (and `limits.maxHeaderBytes`) take effect on restart.',
    '',
  );

  // Top-level fields with structure get their own section; the table links to them.
  const sections = [];
  const rows = [];
  const required = new Set(schema.required ?? []);
  for (const [name, node] of Object.entries(schema.properties ?? {})) {
    const n = r.resolve(node);
    const own = r.isObject(n) || r.isStructured(n);
    const slug = own ? r.slugs.reserve(name) : undefined;
    if (own) sections.push([name, node, slug]);
    rows.push(r.row(name, node, required.has(name), slug));
  }
  out.push(r.slugs.heading(2, 'Top level'), '', ...table(rows));

  for (const [name, node, slug] of sections) {
    out.push('', `## ${name}`, '');
    r.slugs.claim(slug);
    const pending = [];
    out.push(...r.body(node, name, 3, pending, { describe: true }));
    out.push(...r.subsections(pending));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

class Renderer {
  constructor(defs) {
    this.defs = defs;
    this.slugs = new Slugs();
    /** Subsection anchors by path: a path reached from several kinds (e.g. servers.<name>.credential) is written once. */
    this.sections = new Map();
  }

  resolve(node) {
    if (node && node.$ref) {
      const target = this.defs[refName(node.$ref)];
      if (target) {
        const { $ref: _ref, ...rest } = node;
        return { ...target, ...rest, $kind: refName(node.$ref) };
      }
    }
    return node ?? {};
  }

  isObject(n) {
    return n.type === 'object' && n.properties !== undefined;
  }

  /** Needs a subsection: a list of mappings, a mapping of names to mappings, a choice of kinds. */
  isStructured(node) {
    const n = this.resolve(node);
    if (n.$kind) return false;
    const variants = n.anyOf ?? n.oneOf;
    if (Array.isArray(variants)) return variants.some((v) => this.isObject(this.resolve(v)) || this.isStructured(v));
    if (n.type === 'array') return this.isObject(this.resolve(n.items ?? {})) || this.isStructured(n.items ?? {});
    if (n.type === 'object' && !n.properties && n.additionalProperties && typeof n.additionalProperties === 'object') {
      const value = this.resolve(n.additionalProperties);
      return this.isObject(value) || this.isStructured(value);
    }
    return false;
  }

  /** Lines describing `node` found at `path`; structured fields inside are queued in `pending`. */
  body(node, path, level, pending, { describe = false } = {}) {
    const n = this.resolve(node);
    const out = [];
    if (describe && n.description) out.push(text(n.description), '');
    const variants = n.anyOf ?? n.oneOf;
    if (Array.isArray(variants)) {
      const listOf = listOfSame(variants);
      if (listOf) {
        out.push('Either one entry as below, or a list of them.', '');
        out.push(...this.body(listOf, path, level, pending));
        return out;
      }
      const tag = tagOf(variants.map((v) => this.resolve(v)));
      if (tag) out.push(`One of the kinds below, chosen by \`${tag}\`.`, '');
      else {
        const keys = variants.map((v) => (this.resolve(v).required ?? [])[0]);
        const distinct = keys.every((k) => k !== undefined) && new Set(keys).size === keys.length;
        out.push(distinct ? `Exactly one of the kinds below, told apart by which field it has: ${keys.map(code).join(', ')}.` : 'Exactly one of the kinds below.', '');
      }
      for (const variant of variants) {
        const v = this.resolve(variant);
        out.push(this.slugs.heading(level, variantLabel(v, tag)), '');
        if (v.description) out.push(text(v.description), '');
        if (this.isObject(v)) {
          const rows = this.rows(v, '', path, pending, tag);
          out.push(...(rows.length > 0 ? table(rows) : ['No other fields.']), '');
        } else {
          out.push(...this.body(v, path, level + 1, pending), '');
        }
      }
      return out;
    }
    if (n.type === 'array' && this.isStructured(n)) {
      const items = this.resolve(n.items);
      if (items.title) out.push(`Each entry: ${lowerFirst(text(items.title))}.`, '');
      out.push(...this.body(n.items, `${path}[]`, level, pending));
      return out;
    }
    if (this.isObject(n)) {
      out.push(...table(this.rows(n, '', path, pending)));
      return out;
    }
    if (n.type === 'object' && n.additionalProperties && typeof n.additionalProperties === 'object') {
      const names = n.propertyNames?.pattern === NAME_PATTERN ? ' (letters, digits, `_`, `.`, `-`; at most 64 characters)' : '';
      out.push(`Each key under \`${path}\` is a name of your choice${names}.`, '');
      out.push(...this.body(n.additionalProperties, `${path}.<name>`, level, pending));
      return out;
    }
    out.push(`Type: ${this.typeOf(n)}.`);
    return out;
  }

  /** Table rows for an object's fields; nested plain mappings are flattened into dotted names. */
  rows(n, prefix, path, pending, skip) {
    const rows = [];
    const required = new Set(n.required ?? []);
    for (const [name, child] of Object.entries(n.properties ?? {})) {
      if (name === skip && prefix === '') continue;
      const c = this.resolve(child);
      const field = prefix + name;
      if (this.isObject(c)) {
        rows.push(this.row(field, child, required.has(name), undefined, true));
        rows.push(...this.rows(c, `${field}.`, path, pending));
      } else if (this.isStructured(c)) {
        const sub = joinPath(path, field);
        let slug = this.sections.get(sub);
        if (slug === undefined) {
          slug = this.slugs.reserve(code(sub));
          this.sections.set(sub, slug);
          pending.push([sub, child, slug]);
        }
        rows.push(this.row(field, child, required.has(name), slug));
      } else {
        rows.push(this.row(field, child, required.has(name)));
      }
    }
    return rows;
  }

  subsections(pending) {
    const out = [];
    while (pending.length > 0) {
      const [path, node, slug] = pending.shift();
      out.push('', `### ${code(path)}`, '');
      this.slugs.claim(slug);
      const inner = [];
      out.push(...this.body(node, path, 4, inner, { describe: true }));
      pending.unshift(...inner);
    }
    return out;
  }

  row(field, node, isRequired, link, isContainer = false) {
    const n = this.resolve(node);
    let description = text(node.description ?? (n.$kind ? '' : n.description ?? ''));
    if (n.type === 'string' && n.pattern) description = joinSentence(description, `Pattern: ${code(n.pattern)}.`);
    let type = this.typeOf(n);
    if (link) type += `, see [below](#${link})`;
    let value;
    if (isRequired) value = '**required**';
    else if (isContainer) value = '';
    else if (node.default === undefined) value = '—';
    else if (this.isObject(n) && node.default && Object.keys(node.default).length > 0) value = 'see fields';
    else value = formatDefault(node.default, n.$kind);
    return [code(field), type, value, description].map(escapeCell);
  }

  typeOf(n) {
    if (n.$kind === 'Duration') return '[duration](#conventions)';
    if (n.$kind === 'Size') return '[size](#conventions)';
    if (n.$kind) return n.$kind;
    if (n.const !== undefined) return code(JSON.stringify(n.const));
    if (Array.isArray(n.enum)) return `one of ${n.enum.map((v) => code(String(v))).join(', ')}`;
    const variants = n.anyOf ?? n.oneOf;
    if (Array.isArray(variants)) {
      const listOf = listOfSame(variants);
      if (listOf) return `${this.typeOf(this.resolve(listOf))}, or a list of them`;
      const resolved = variants.map((v) => this.resolve(v));
      const tag = tagOf(resolved);
      if (tag) return `mapping with \`${tag}\`: ${resolved.map((v) => code(String(v.properties[tag].const))).join(', ')}`;
      if (resolved.every((v) => this.isObject(v))) return `mapping (one of ${variants.length} kinds)`;
      return resolved.map((v) => this.typeOf(v)).join(' or ');
    }
    const types = Array.isArray(n.type) ? n.type : [n.type];
    if (types.length > 1) return types.join(' or ');
    switch (n.type) {
      case 'integer': {
        if (n.minimum !== undefined && n.maximum !== undefined) return `integer ${n.minimum}–${n.maximum}`;
        const bounds = [];
        if (n.minimum !== undefined) bounds.push(`≥ ${n.minimum}`);
        if (n.exclusiveMinimum !== undefined) bounds.push(`> ${n.exclusiveMinimum}`);
        if (n.maximum !== undefined) bounds.push(`≤ ${n.maximum}`);
        return bounds.length > 0 ? `integer ${bounds.join(', ')}` : 'integer';
      }
      case 'array': {
        const items = n.items ?? {};
        if (items.not && Object.keys(items.not).length === 0) return 'list (must be empty)';
        const count = n.minItems ? ` (at least ${n.minItems})` : '';
        return `list of ${plural(this.typeOf(this.resolve(items)))}${count}`;
      }
      case 'object':
        if (!n.properties && n.additionalProperties && typeof n.additionalProperties === 'object') {
          return `mapping of names to ${plural(this.typeOf(this.resolve(n.additionalProperties)))}`;
        }
        return 'mapping';
      case undefined:
        return 'any';
      default:
        return n.type;
    }
  }
}

/** GitHub's heading anchors, with its -1, -2 suffixes for repeats. */
class Slugs {
  constructor() {
    this.counts = new Map();
    this.reserved = new Set();
  }

  /** The anchor the next heading with this text will get; the heading must be written later with claim(). */
  reserve(headingText) {
    const slug = this.next(headingText);
    this.reserved.add(slug);
    return slug;
  }

  claim(slug) {
    this.reserved.delete(slug);
  }

  heading(level, headingText) {
    this.next(headingText);
    return `${'#'.repeat(Math.min(level, 6))} ${headingText}`;
  }

  next(headingText) {
    const base = headingText
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = this.counts.get(base) ?? 0;
    this.counts.set(base, count + 1);
    return count === 0 ? base : `${base}-${count}`;
  }
}

const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

/** [X, list of X] → X */
function listOfSame(variants) {
  if (variants.length !== 2) return undefined;
  const [a, b] = variants;
  if (b.type === 'array' && JSON.stringify(b.items) === JSON.stringify(a)) return a;
  if (a.type === 'array' && JSON.stringify(a.items) === JSON.stringify(b)) return b;
  return undefined;
}

/** The field whose constant tells the variants apart (e.g. `type`), if there is one. */
function tagOf(variants) {
  if (variants.length === 0 || !variants.every((v) => v.properties)) return undefined;
  for (const [name, prop] of Object.entries(variants[0].properties)) {
    if (prop.const === undefined) continue;
    if (variants.every((v) => v.properties[name]?.const !== undefined)) return name;
  }
  return undefined;
}

function variantLabel(v, tag) {
  if (tag) return code(`${tag}: ${v.properties[tag].const}`);
  const key = (v.required ?? [])[0] ?? Object.keys(v.properties ?? {})[0];
  const title = v.title ? text(v.title) : '';
  if (key && title) return `${code(key)}: ${title}`;
  if (key) return code(key);
  return title || 'variant';
}

function formatDefault(value, kind) {
  let out = code(JSON.stringify(value));
  if (kind === 'Duration' && typeof value === 'number') out += ` (${humanDuration(value)})`;
  if (kind === 'Size' && typeof value === 'number') out += ` (${humanSize(value)})`;
  return out;
}

function humanDuration(ms) {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]]) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function humanSize(bytes) {
  for (const [unit, size] of [['gb', 1024 ** 3], ['mb', 1024 ** 2], ['kb', 1024]]) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}b`;
}

/** "string" → "strings", "mapping (one of 3 kinds)" → "mappings (one of 3 kinds)", "string or number" → "strings or numbers". */
function plural(type) {
  return type
    .split(' or ')
    .map((part) => part.replace(/^(string|number|integer|boolean|mapping)\b/, '$1s'))
    .join(' or ');
}

function joinPath(path, field) {
  return `${path}.${field}`;
}

function table(rows) {
  return ['| Field | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function refName(ref) {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** A code span that survives backticks inside (`` a`b ``). */
function code(value) {
  const text = String(value);
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function text(value) {
  return String(value).replace(/\s+/g, ' ').trim();
}

function escapeCell(value) {
  return value.replace(/\|/g, '\\|');
}

function joinSentence(a, b) {
  return a === '' ? b : `${a.replace(/\.?$/, '.')} ${b}`;
}

function lowerFirst(value) {
  return value.charAt(0).toLowerCase() + value.slice(1);
}
