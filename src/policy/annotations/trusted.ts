// The operator's annotations, compiled once per config: each (server, tool) → its flags. Exact
// names are one Map lookup; globs are tried in the order written, and what they resolve to is
// remembered per name (a server has a bounded set of tools).
import { globToRegExp } from '../../mcp/glob.ts';
import { ANNOTATION_FLAGS, type AnnotationFlag, type ToolAnnotationsConfig } from './schema.ts';

export type ToolAnnotations = Readonly<Record<AnnotationFlag, boolean>>;

export const NO_ANNOTATIONS: ToolAnnotations = Object.freeze(Object.fromEntries(ANNOTATION_FLAGS.map((flag) => [flag, false])) as Record<AnnotationFlag, boolean>);

interface ServerAnnotations {
  readonly exact: Map<string, ToolAnnotations>;
  readonly globs: Array<{ readonly pattern: RegExp; readonly flags: ToolAnnotations }>;
  readonly resolved: Map<string, ToolAnnotations>;
}

/** Names resolved through globs, per server, before the memo stops growing. */
const MAX_RESOLVED = 10_000;

export class TrustedAnnotations {
  private readonly servers = new Map<string, ServerAnnotations>();

  constructor(config: ToolAnnotationsConfig) {
    for (const [server, tools] of Object.entries(config)) {
      const entry: ServerAnnotations = { exact: new Map(), globs: [], resolved: new Map() };
      for (const [name, set] of Object.entries(tools)) {
        const flags = Object.freeze({ ...NO_ANNOTATIONS, ...set });
        if (/[*?\\]/.test(name)) entry.globs.push({ pattern: globToRegExp(name), flags });
        else entry.exact.set(name, flags);
      }
      this.servers.set(server, entry);
    }
  }

  /** Whether any tool of any server is annotated (a chain without annotations skips the lookups). */
  get empty(): boolean {
    return this.servers.size === 0;
  }

  /** The operator's flags for a server's tool (every flag false when nothing is asserted). */
  of(server: string, tool: string): ToolAnnotations {
    const entry = this.servers.get(server);
    if (!entry) return NO_ANNOTATIONS;
    const exact = entry.exact.get(tool) ?? entry.resolved.get(tool);
    if (exact) return exact;
    const flags = entry.globs.find((glob) => glob.pattern.test(tool))?.flags ?? NO_ANNOTATIONS;
    if (entry.resolved.size < MAX_RESOLVED) entry.resolved.set(tool, flags);
    return flags;
  }

  /** The tools of `server` the operator marked with `flag` by exact name (for docs and the console). */
  marked(server: string, flag: AnnotationFlag): string[] {
    const entry = this.servers.get(server);
    return entry ? [...entry.exact].filter(([, flags]) => flags[flag]).map(([name]) => name) : [];
  }
}
