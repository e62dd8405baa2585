// Config schema of the tool-pinning policy (`- pinning: {...}` in an API's policies): how the
// tool definitions a server lists are held to the ones an operator approved.
import { z } from 'zod';
import { Duration } from '../../config/units.ts';
import { Url } from '../../config/auth-schema.ts';

const Mode = z.enum(['observe', 'enforce', 'approve-new']).meta({
  description:
    '`observe`: record each tool\'s definition and alert when it changes; nothing is hidden. `enforce`: also hide a tool whose definition differs from the approved one (its calls are answered as for an unknown tool) until an operator approves the new one. `approve-new`: as enforce, and a tool that appears after the server\'s first recorded list stays hidden until approved.',
});

const FirstUse = z.enum(['trust', 'approve']).meta({
  description: '`trust`: the first definition seen of a tool is approved as it is (for `approve-new`, only the tools of the server\'s first list). `approve`: no tool is shown under enforce or approve-new before an operator approves it.',
});

const ServerOverride = z
  .strictObject({
    mode: Mode.optional(),
    firstUse: FirstUse.optional(),
  })
  .meta({ description: 'This server\'s mode and first-use rule, instead of the policy\'s.' });

export const WebhookSchema = z
  .strictObject({
    url: Url.meta({ description: 'Where each change is POSTed as JSON (http or https).' }),
    secret: z.string().min(16, 'expected a secret of at least 16 characters').optional().meta({ description: 'Signs each body: header `X-Gatehouse-Signature: sha256=<hex HMAC-SHA256 of the body>`. Use ${env:NAME}; never logged.' }),
    timeout: Duration.default(5000).meta({ description: 'Longest wait for the webhook to answer; one attempt, no retries (the audit log keeps every change).' }),
  })
  .meta({ description: 'A webhook told of each tool definition change.' });

export const PinningPolicySchema = z
  .strictObject({
    pinning: z.strictObject({
      mode: Mode.default('enforce'),
      firstUse: FirstUse.default('trust'),
      servers: z.record(z.string(), ServerOverride).default({}).meta({ description: 'Per-server mode and first-use rule, by server name (on a federated API or virtual server, the members).' }),
      webhook: WebhookSchema.optional(),
    }),
  })
  .meta({
    title: 'Tool-definition pinning policy',
    description:
      'Records each tool\'s definition (name, title, description, input and output schema, annotations) per server in the store, and alerts (audit record, metric, log, webhook) when it changes; under enforce or approve-new, a tool whose definition is not the approved one is hidden and its calls refused as for an unknown tool. Approve with `gatehouse tools approve` or the management API. See docs/tool-pinning.md.',
  });

export type PinningConfig = z.output<typeof PinningPolicySchema>['pinning'];
export type PinningMode = z.output<typeof Mode>;
export type FirstUseRule = z.output<typeof FirstUse>;
export type WebhookConfig = z.output<typeof WebhookSchema>;
