// Config schema of the taint policy (`- taint: {...}` in an API's policies): a session that got
// a result of a tool marked `untrustedOutput` may not call a tool marked `exfiltration`.
import { z } from 'zod';
import { Duration } from '../../config/units.ts';

export const TaintPolicySchema = z
  .strictObject({
    taint: z.strictObject({
      action: z.enum(['refuse', 'approve']).default('refuse').meta({ description: '`refuse`: a call of a tool marked `exfiltration` in a tainted session is answered with a JSON-RPC error (-32043, GH_SESSION_TAINTED) that says why. `approve`: it waits for a person\'s approval instead, as under the approval policy (admin API `/api/approvals`; denied or timed out, it is refused with GH_SESSION_TAINTED).' }),
      approvalTimeout: Duration.default(300_000).meta({ description: 'With action `approve`: how long such a call waits for a decision before it is refused.' }),
      ttl: Duration.default(24 * 3_600_000).meta({ description: 'How long a taint lasts (a session rarely lives longer; a 2026-07-28 client, which has no session, is tainted per agent and user for this long).' }),
    }),
  })
  .meta({
    title: 'Session taint policy',
    description:
      'Against the "lethal trifecta": once a tool the operator marked `untrustedOutput` (toolAnnotations) has returned a result in a session, tools marked `exfiltration` are refused in that session. The taint is kept in the store, so every node sees it. See docs/taint.md.',
  });

export type TaintConfig = z.output<typeof TaintPolicySchema>['taint'];
