// The fields of an API that put several servers behind one endpoint: a federated API
// (`servers: [a, b]` with a namespace) or a virtual server (a curated `tools` / `prompts` /
// `resources` selection). Cross-checks (servers exist, names within MCP's rules, no collision
// under `prefix: never`) are in federation-check.ts.
import { z } from 'zod';

const ServerRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected the name of an entry under `servers`');

/**
 * MCP tool names (2025-11-25, "Tool names"): 1 to 128 characters, case-sensitive, of ASCII
 * letters, digits, "_", "-" and ".". Prompt names follow the same rule here.
 */
export const TOOL_NAME_MAX = 128;
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

const ItemName = z.string().regex(TOOL_NAME_PATTERN, 'expected an MCP tool name: 1 to 128 letters, digits, "_", "-" or "."');

export const NamespaceSchema = z
  .strictObject({
    prefix: z
      .enum(['always', 'conflicts', 'never'])
      .default('always')
      .meta({
        description:
          '`always`: every tool and prompt is named `<server><separator><name>`. `conflicts`: names stay as the server gives them, except names offered by more than one server, which are all prefixed. `never`: names stay as they are; two servers offering the same name is an error (at load when the names are known, else answered to the list request), never a silent shadowing.',
      }),
    separator: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,8}$/, 'expected 1 to 8 characters of letters, digits, "_", "-" or "." (what an MCP tool name may hold)')
      .default('__')
      .meta({ description: 'Put between the server name and the tool or prompt name. No server name of the API may contain it.' }),
  })
  .meta({ description: 'How the tools and prompts of a federated API are named (resource URIs keep their spelling).' });

const Annotations = z
  .strictObject({
    title: z.string().optional(),
    readOnlyHint: z.boolean().optional(),
    destructiveHint: z.boolean().optional(),
    idempotentHint: z.boolean().optional(),
    openWorldHint: z.boolean().optional(),
  })
  .meta({ description: 'Tool annotations that replace the server\'s (each one given; the others are kept).' });

export const VirtualToolSchema = z
  .strictObject({
    server: ServerRef.meta({ description: 'The server offering the tool.' }),
    name: z.string().min(1).meta({ description: 'The tool\'s name on that server.' }),
    as: ItemName.optional().meta({ description: 'The name agents see and call (default: `name`).' }),
    description: z.string().optional().meta({ description: 'Replaces the server\'s description.' }),
    annotations: Annotations.optional(),
    arguments: z
      .strictObject({
        fixed: z
          .record(z.string(), z.unknown())
          .optional()
          .meta({ description: 'Arguments set on every call. They are removed from the input schema agents see; a call that passes one is refused (-32602).' }),
        defaults: z.record(z.string(), z.unknown()).optional().meta({ description: 'Arguments set when the call does not pass them (shown as `default` in the input schema).' }),
      })
      .optional()
      .meta({ description: 'Arguments Gatehouse sets on the agent\'s behalf.' }),
  })
  .meta({ title: 'A tool of a virtual server' });

export const VirtualPromptSchema = z
  .strictObject({
    server: ServerRef.meta({ description: 'The server offering the prompt.' }),
    name: z.string().min(1).meta({ description: 'The prompt\'s name on that server.' }),
    as: ItemName.optional().meta({ description: 'The name agents see (default: `name`).' }),
    description: z.string().optional().meta({ description: 'Replaces the server\'s description.' }),
  })
  .meta({ title: 'A prompt of a virtual server' });

export const VirtualResourceSchema = z
  .strictObject({
    server: ServerRef.meta({ description: 'The server offering the resources.' }),
    uri: z
      .string()
      .min(1)
      .meta({ description: 'A URI or a glob of URIs (`*`: any characters but "/", `**`: any characters, `?`: one character but "/", `\\`: the next character literally, e.g. `\\?` for a query) selecting the server\'s resources and resource templates (a template is matched by its text, e.g. `file:///srv/{path}`); reads of URIs it matches go to this server.' }),
  })
  .meta({ title: 'Resources of a virtual server' });

export const OnUpstreamFailureSchema = z
  .enum(['omit', 'fail'])
  .meta({ description: 'When one server of a federated API or virtual server cannot be reached: `omit` (default) leaves its items out and the others keep working (it is added again, with list_changed, when it comes back); `fail` fails requests that need every server (initialize, lists).' });

export type NamespaceData = z.output<typeof NamespaceSchema>;
export type VirtualToolData = z.output<typeof VirtualToolSchema>;
export type VirtualPromptData = z.output<typeof VirtualPromptSchema>;
export type VirtualResourceData = z.output<typeof VirtualResourceSchema>;
