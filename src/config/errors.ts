// Config errors that name the file, the field (with its line) and what is expected.

export interface ConfigProblem {
  /** Dotted path such as apis[0].server */
  field: string;
  message: string;
  line?: number;
  column?: number;
}

export class ConfigError extends Error {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    super(formatProblems(file, problems));
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}

export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function formatProblems(file: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p) => {
    const where = p.line !== undefined ? `${file}:${p.line}:${p.column ?? 1}` : file;
    return `${where}: ${p.field}: ${p.message}`;
  });
  return `invalid configuration in ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`;
}
