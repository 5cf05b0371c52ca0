import { nextAttempt } from './retry.ts';
import type { RetryPolicy } from './retry.ts';
import type { RecipientResult } from './egress.ts';

/**
 * What the queue does with one recipient after an attempt: done, bounce now (5xx), try again
 * at a time from the retry schedule, or give up because the message is too old (expiry).
 */
export type Decision =
  | { kind: 'delivered' }
  | { kind: 'failed' }
  | { kind: 'retry'; at: number }
  | { kind: 'expired' };

export function decide(result: Pick<RecipientResult, 'outcome'>, policy: RetryPolicy, attempts: number, firstQueuedAt: number, now: number): Decision {
  if (result.outcome === 'delivered') return { kind: 'delivered' };
  if (result.outcome === 'failed') return { kind: 'failed' };
  const next = nextAttempt(policy, attempts, firstQueuedAt, now);
  return next.kind === 'retry' ? next : { kind: 'expired' };
}
