// ${env:NAME} substitution in config values, so secrets stay out of the file.
// ${env:NAME:-fallback} gives a default when NAME is unset.

export interface EnvProblem {
  path: (string | number)[];
  message: string;
}

const PATTERN = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Returns a copy of `value` with every ${env:…} in strings replaced; problems are collected. */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: EnvProblem[],
  path: (string | number)[] = [],
  /** Collects the fields that used ${env:…} (path as JSON → the text in the file). */
  fields?: Map<string, string>,
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    if (fields && PATTERN.test(value)) fields.set(JSON.stringify(path), value);
    PATTERN.lastIndex = 0;
    return value.replace(PATTERN, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined) return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path, message: `environment variable ${name} is not set (referenced as \${env:${name}})` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, problems, [...path, index], fields));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnv(item, env, problems, [...path, key], fields);
    return out;
  }
  return value;
}
