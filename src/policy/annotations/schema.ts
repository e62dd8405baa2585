// Config schema of the operator's annotations (`toolAnnotations:` at the top level): what an
// operator asserts about each tool of each server. A server's own annotations are hints it gives
// about itself; these are the gateway's word, which the taint policy and CEL conditions use.
import { z } from 'zod';

export const ANNOTATION_FLAGS = ['readOnly', 'destructive', 'openWorld', 'untrustedOutput', 'exfiltration'] as const;
export type AnnotationFlag = (typeof ANNOTATION_FLAGS)[number];

export const ToolAnnotationSet = z
  .strictObject({
    readOnly: z.boolean().optional().meta({ description: 'The tool changes nothing.' }),
    destructive: z.boolean().optional().meta({ description: 'The tool may destroy or overwrite data.' }),
    openWorld: z.boolean().optional().meta({ description: 'The tool reaches things outside the server (the web, other systems).' }),
    untrustedOutput: z.boolean().optional().meta({ description: 'Its results may carry text an attacker controls (web pages, mail, issues, files others wrote): a session that got one is tainted (the `taint` policy).' }),
    exfiltration: z.boolean().optional().meta({ description: 'It can send data outside (mail, HTTP requests, messages, public posts): refused in a tainted session (the `taint` policy).' }),
  })
  .meta({ description: 'What the operator asserts about a tool; an unset flag is false.' });

export const ToolAnnotationsSchema = z
  .record(z.string().min(1), z.record(z.string().min(1), ToolAnnotationSet))
  .default({})
  .meta({
    description:
      'Annotations the operator asserts per tool, by server name, then by tool name or glob (`*`, `**`, `?`, `\\` escapes; an exact name wins over globs, then the first glob that matches). They override what the server says of its tools (its annotations are hints only) and are what CEL conditions see as `mcp.tool.annotations` and what the `taint` policy reads. See docs/taint.md.',
  });

export type ToolAnnotationsConfig = z.output<typeof ToolAnnotationsSchema>;
