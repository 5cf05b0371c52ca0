/**
 * The retry schedule, as a pure function: the queue stores `attempts` and `firstQueuedAt`,
 * and asks here when the next attempt is due. Exponential back-off (5, 10, 20 ... minutes,
 * capped) until the message is older than the maximum age (RFC 5321 4.5.4.1 suggests 4-5
 * days), then the message expires and the sender writes an expiry failure.
 */
export interface RetryPolicy {
  initialMinutes: number;
  factor: number;
  maxIntervalMinutes: number;
  maxAgeHours: number;
}

export type NextAttempt = { kind: 'retry'; at: number } | { kind: 'expire' };

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  initialMinutes: 5,
  factor: 2,
  maxIntervalMinutes: 240,
  maxAgeHours: 120,
});

const MINUTE = 60_000;
const HOUR = 3_600_000;

function finiteAtLeast(name: string, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new RangeError(`retry policy: ${name} must be a finite number >= ${min}, got ${String(value)}`);
  }
}

/** Throws a RangeError naming the bad field; a bad policy must not silently retry forever. */
export function validateRetryPolicy(policy: RetryPolicy): void {
  finiteAtLeast('initialMinutes', policy.initialMinutes, 0);
  finiteAtLeast('factor', policy.factor, 1);
  finiteAtLeast('maxIntervalMinutes', policy.maxIntervalMinutes, 0);
  finiteAtLeast('maxAgeHours', policy.maxAgeHours, 0);
}

/** Delay before the attempt following attempt number `attempts` (1-based), in ms. */
export function retryDelayMs(policy: RetryPolicy, attempts: number): number {
  // factor^(n-1) overflows to Infinity for large n, which the cap below absorbs.
  const minutes = policy.initialMinutes * Math.pow(policy.factor, attempts - 1);
  return Math.round(Math.min(minutes, policy.maxIntervalMinutes) * MINUTE);
}

/**
 * After a temporary failure of attempt number `attempts` (1 for the first attempt made), at
 * time `now`: when to try again, or expire. The last retry is pulled in to the expiry moment
 * so a message always gets one attempt at the end of its life instead of expiring up to a
 * whole interval early.
 */
export function nextAttempt(policy: RetryPolicy, attempts: number, firstQueuedAt: number, now: number): NextAttempt {
  validateRetryPolicy(policy);
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be an integer >= 1, got ${String(attempts)}`);
  finiteAtLeast('firstQueuedAt', firstQueuedAt, 0);
  finiteAtLeast('now', now, 0);
  const deadline = firstQueuedAt + policy.maxAgeHours * HOUR;
  if (now >= deadline) return { kind: 'expire' };
  const at = Math.min(now + retryDelayMs(policy, attempts), deadline);
  return { kind: 'retry', at };
}
