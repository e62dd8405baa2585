// keyless: every caller is the anonymous principal (an explicit choice per API).
import { ANONYMOUS } from './principal.ts';
import type { AuthPlan } from './plan.ts';

export const keylessPlan: AuthPlan = {
  type: 'keyless',
  authenticate: () => ({ principal: ANONYMOUS }),
};
