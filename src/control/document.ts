// The managed configuration document and what turns it into a snapshot. A managed document is a
// config file's content without the fields that belong to one node (where it listens, its data
// directory and store, its admin listener, logs, audit sink, metrics, tracing): those come from
// the node's own settings (`gatehouse start --managed [--config node.yaml]`). The snapshot is
// node settings + document, validated by the same machinery as a file (src/config/load.ts), so
// problems read exactly as `gatehouse check` words them. Documents are kept as written (inputs,
// `${env:…}` unsubstituted): secrets named by variables stay out of the store, and an exported
// file reads as it was applied.
import { z } from 'zod';
import { Api, Config, type ConfigData } from '../config/schema.ts';
import { validateConfig } from '../config/load.ts';
import { ConfigError, fieldPath, type ConfigProblem } from '../config/errors.ts';
import { substituteEnv, type EnvProblem } from '../config/env.ts';
import { coerceEnvScalars, type EnvFields } from '../config/env-scalars.ts';
import type { ControlDocument } from '../store/control.ts';

/** Fields set per node, never in the managed document. */
export const NODE_FIELDS = ['$schema', 'managed', 'listen', 'dataDir', 'store', 'cluster', 'admin', 'log', 'audit', 'metrics', 'tracing', 'publicUrl', 'trustProxy'] as const;

/** A config whose APIs all live in the store: none yet is a valid start. */
export const ManagedConfig = Config.extend({ apis: z.array(Api).default([]).meta({ description: 'MCP entrypoints (managed: none until the first deploy).' }) });

/** The node's own settings in managed mode (`--config node.yaml`); every other field lives in the store. */
export const NodeConfig = Config.pick({ $schema: true, listen: true, dataDir: true, store: true, cluster: true, admin: true, log: true, audit: true, metrics: true, tracing: true, publicUrl: true, trustProxy: true })
  .extend({ managed: z.literal(true).optional().meta({ description: 'Managed mode: servers, APIs and policies live in the store and change through the management API (/api/v1) or `gatehouse apply`.' }) })
  .meta({ title: 'Gatehouse node settings (managed mode)' });
export type NodeInput = z.input<typeof NodeConfig>;

/** The empty managed document: what a fresh store serves (nothing). */
export function emptyDocument(): ControlDocument {
  return { servers: {}, apis: [] };
}

/** Problems of the document itself: node fields do not belong in it. */
export function nodeFieldProblems(document: ControlDocument): ConfigProblem[] {
  return NODE_FIELDS.filter((field) => field in document && field !== '$schema').map((field) => ({
    field,
    message: `\`${field}\` is a setting of each node (its --config file or command line), not of the managed configuration: remove it here`,
  }));
}

/**
 * Node settings + document → the validated config a gateway runs (the snapshot's source; the
 * gateway compiles it). `${env:…}` is substituted from the node's environment. Throws ConfigError
 * naming `label` (e.g. "draft", "version 3") and the field.
 */
export function snapshotConfig(node: Record<string, unknown>, document: ControlDocument, label: string, env: NodeJS.ProcessEnv = process.env): ConfigData {
  const own = nodeFieldProblems(document);
  if (own.length > 0) throw new ConfigError(label, own);
  const { $schema: _schema, ...content } = document;
  const problems: EnvProblem[] = [];
  const fields: EnvFields = new Map();
  const substituted = substituteEnv(content, env, problems, [], fields);
  const coerced = problems.length > 0 ? substituted : coerceEnvScalars(substituted, fields, ManagedConfig, problems);
  if (problems.length > 0) throw new ConfigError(label, problems.map((p) => ({ field: fieldPath(p.path), message: p.message })));
  const { managed: _managed, ...nodeSettings } = node;
  return validateConfig({ ...(coerced as object), ...nodeSettings }, label, undefined, ManagedConfig as unknown as z.ZodType<ConfigData, unknown>);
}

/** Validates node settings (a node.yaml, already parsed and substituted). */
export function validateNodeSettings(value: unknown, file: string): Record<string, unknown> {
  const result = NodeConfig.safeParse(value);
  if (result.success) return value as Record<string, unknown>;
  const problems = result.error.issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: fieldPath([...issue.path, key]), message: issue.path.length === 0 && key in Config.shape ? `\`${key}\` lives in the store in managed mode: change it through the management API or \`gatehouse apply\`, not in this file` : `unknown field \`${key}\`` }));
    }
    return [{ field: fieldPath(issue.path), message: issue.message }];
  });
  throw new ConfigError(file, problems);
}
