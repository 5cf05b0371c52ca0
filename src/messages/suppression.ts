import { suppressionCheck } from '../bounces/suppressions.ts';
import type { SuppressionCheck } from '../delivery/queue/enqueue.ts';

/**
 * Suppression as each lane needs it: bulk mail skips every suppressed address; transactional
 * mail (statements, one-time codes) still goes to someone who unsubscribed from marketing, but
 * never to an address that hard-bounced or complained.
 */
export function suppressionFor(lane: 'transactional' | 'bulk'): SuppressionCheck {
  return async (trx, tenantId, emails) => {
    const found = await suppressionCheck(trx, tenantId, emails);
    if (lane === 'bulk') return found;
    for (const [email, reason] of found) if (reason === 'unsubscribe') found.delete(email);
    return found;
  };
}
