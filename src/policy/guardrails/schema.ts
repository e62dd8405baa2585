// Config schema of the content guardrails policy (`- guardrails: {...}` in an API's policies):
// what is done with secrets, personal data and prompt-injection markers found in results, and
// the output limits and outputSchema check of tool results.
import { z } from 'zod';

export const GuardrailsPolicySchema = z
  .strictObject({
    guardrails: z.strictObject({
      secrets: z.enum(['redact', 'block', 'flag', 'off']).default('redact').meta({ description: 'Keys, tokens, private keys, URL passwords and secret-named values in tool results, resource contents and prompt messages. `redact` replaces each with `[REDACTED:<kind>]` (e.g. `[REDACTED:aws-access-key]`); `block` answers a JSON-RPC error (-32018, GH_RESULT_BLOCKED) in place of the result; `flag` passes it and names what was found (never the value) in the audit trace; `off` does not look.' }),
      personalData: z.enum(['redact', 'block', 'flag', 'off']).default('flag').meta({ description: 'E-mail addresses and payment card numbers (issuer prefix and Luhn checksum), with the same actions as `secrets`.' }),
      injection: z.enum(['strip', 'block', 'flag', 'off']).default('flag').meta({ description: 'Known prompt-injection markers ("ignore previous instructions", instruction tags, invisible Unicode tag characters, zero-width runs, data: URLs in links). `strip` removes them (invisible characters go, visible markers become `[REMOVED:prompt-injection]`); `block` and `flag` as for `secrets`. A marker list catches the known and careless, not a determined attacker: see docs/guardrails.md.' }),
      maxResultBytes: z.int().positive().optional().meta({ description: 'Largest result (its JSON, in bytes) of a tool call, resource read or prompt get; a larger one is handled by `limitAction`.' }),
      maxContentItems: z.int().positive().optional().meta({ description: 'Most content items in a tool result; more are handled by `limitAction`.' }),
      limitAction: z.enum(['refuse', 'flag']).default('refuse').meta({ description: '`refuse`: a result over a limit is answered with GH_RESULT_BLOCKED; `flag`: passed, with an audit trace entry.' }),
      outputSchema: z.enum(['refuse', 'flag', 'off']).default('refuse').meta({ description: 'A tool result whose `structuredContent` does not match the `outputSchema` the tool declared in `tools/list` (or lacks it): `refuse` answers GH_RESULT_BLOCKED, `flag` passes it with an audit trace entry.' }),
    }),
  })
  .meta({
    title: 'Content guardrails policy',
    description:
      'Looks at every tool result, resource content and prompt message the API passes on: secrets, personal data and prompt-injection markers are redacted, blocked or flagged; tool results are held to size limits and to their outputSchema. See docs/guardrails.md.',
  });

export type GuardrailsConfig = z.output<typeof GuardrailsPolicySchema>['guardrails'];
