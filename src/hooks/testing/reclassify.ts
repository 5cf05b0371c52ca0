/** A classification hook for tests: a 550 that says "policy" is the receiver's filter, not an unknown user. */
import type { ClassifyOverride, ClassifyRequest } from '../types.ts';

export default {
  'bounce.classify'(c: ClassifyRequest): ClassifyOverride {
    return c.replyCode === 550 && /policy/i.test(c.text) ? { reason: 'filtered' } : null;
  },
};
