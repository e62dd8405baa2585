// Config schema of the approval policy (`- approval: {...}` in an API's policies): tool calls a
// CEL condition picks are held until a person approves them, or refused at the timeout.
import { z } from 'zod';
import { Duration } from '../../config/units.ts';
import { WebhookSchema } from '../pinning/schema.ts';
import { compileCondition } from '../acl/condition.ts';

export const ApprovalPolicySchema = z
  .strictObject({
    approval: z.strictObject({
      when: z
        .string()
        .min(1)
        .superRefine((source, ctx) => {
          try {
            compileCondition(source);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: `invalid CEL condition: ${(error as Error).message}` });
          }
        })
        .meta({ description: 'CEL condition over the same context as ACL conditions (agent, user, claims, request, mcp with mcp.arguments and mcp.tool.annotations, now): a `tools/call` for which it is true waits for approval. E.g. `mcp.tool.annotations.destructive || (mcp.originalName == "transfer" && mcp.arguments.amount > 1000)`. A condition that fails at run time holds the call too (fail closed).' }),
      timeout: Duration.default(300_000).meta({ description: 'How long a call waits; then it is refused (GH_APPROVAL_TIMEOUT). The client\'s own request timeout must be longer.' }),
      approver: z
        .enum(['operators', 'user'])
        .default('operators')
        .meta({ description: '`operators`: approvers decide in the admin API or through the webhook\'s links. `user`: the person behind the agent decides, asked through form elicitation on the call\'s answer stream (2025-06-18 and later clients that declared the `elicitation` capability), or for 2026-07-28 clients an `input_required` result with a sealed request state; clients that did not declare form elicitation are refused with GH_APPROVAL_DENIED saying why. No webhook is sent and the call is not in the admin queue.' }),
      progressInterval: Duration.refine((ms) => ms >= 100, 'expected at least 100ms (a progress notification per interval goes to every waiting client)').default(5_000).meta({ description: 'While a call waits, a client that sent `_meta.progressToken` gets a `notifications/progress` at once and then this often, naming the approval and the time left (its SDK can reset its own request timeout on each).' }),
      webhook: WebhookSchema.optional().meta({ description: 'Told of each held call (event `approval_requested`) with signed single-use links to approve or deny it on the admin listener.' }),
    }),
  })
  .meta({
    title: 'Human approval policy',
    description:
      'Holds the tool calls its condition picks until an approver approves or denies them: in the admin API (`GET /api/approvals`, `POST /api/approvals/{id}`) or through the signed links the webhook carries. The approval is for that held call only: its exact arguments (by hash), agent, user and session; it is used once. See docs/approval.md.',
  });

export type ApprovalConfig = z.output<typeof ApprovalPolicySchema>['approval'];
