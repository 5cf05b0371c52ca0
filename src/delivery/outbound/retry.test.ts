import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_POLICY, nextAttempt, retryDelayMs, validateRetryPolicy } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 25, 0, 0, 0);

describe('retry schedule', () => {
  it('defaults: 5 min doubling, capped at 4 h, 5 days max age', () => {
    assert.deepEqual({ ...DEFAULT_RETRY_POLICY }, { initialMinutes: 5, factor: 2, maxIntervalMinutes: 240, maxAgeHours: 120 });
    const delays = Array.from({ length: 9 }, (_, i) => retryDelayMs(DEFAULT_RETRY_POLICY, i + 1) / MIN);
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 240, 240, 240]);
  });

  it('walks a message through its whole life: every gap as scheduled, last try at the deadline, then expiry', () => {
    const p = DEFAULT_RETRY_POLICY;
    const deadline = T0 + 120 * HOUR;
    let now = T0;
    let attempts = 1;
    const gaps: number[] = [];
    for (;;) {
      const n = nextAttempt(p, attempts, T0, now);
      if (n.kind === 'expire') break;
      assert.ok(n.at > now, 'the next attempt is in the future');
      assert.ok(n.at <= deadline, 'never scheduled past the maximum age');
      gaps.push((n.at - now) / MIN);
      now = n.at;
      attempts++;
      assert.ok(attempts < 1000, 'terminates');
    }
    assert.equal(now, deadline, 'the final attempt happens exactly at the deadline');
    assert.deepEqual(gaps.slice(0, 7), [5, 10, 20, 40, 80, 160, 240]);
    assert.ok(gaps.slice(6, -1).every((g) => g === 240));
    // 5+10+20+40+80+160 = 315 min, then 240-min gaps until 7200 min, the last one shortened.
    assert.equal(gaps.length, 6 + Math.ceil((7200 - 315) / 240));
  });

  it('every (attempts, now) pair within a grid obeys the rules', () => {
    const policies: RetryPolicy[] = [
      DEFAULT_RETRY_POLICY,
      { initialMinutes: 1, factor: 3, maxIntervalMinutes: 60, maxAgeHours: 24 },
      { initialMinutes: 15, factor: 1, maxIntervalMinutes: 15, maxAgeHours: 1 },
      { initialMinutes: 0, factor: 2, maxIntervalMinutes: 0, maxAgeHours: 2 },
    ];
    for (const p of policies) {
      const deadline = T0 + p.maxAgeHours * HOUR;
      for (let attempts = 1; attempts <= 80; attempts++) {
        for (const age of [0, 1, 59_999, 30 * MIN, HOUR, p.maxAgeHours * HOUR - 1, p.maxAgeHours * HOUR, p.maxAgeHours * HOUR + 1, 365 * 24 * HOUR]) {
          const now = T0 + age;
          const n = nextAttempt(p, attempts, T0, now);
          if (now >= deadline) {
            assert.deepEqual(n, { kind: 'expire' });
            continue;
          }
          assert.equal(n.kind, 'retry');
          if (n.kind !== 'retry') continue;
          const expected = Math.min(p.initialMinutes * p.factor ** (attempts - 1), p.maxIntervalMinutes) * MIN;
          assert.equal(n.at, Math.min(now + Math.round(expected), deadline), `${JSON.stringify(p)} attempts=${attempts} age=${age}`);
        }
      }
    }
  });

  it('huge attempt counts stay capped (no Infinity or NaN)', () => {
    const n = nextAttempt(DEFAULT_RETRY_POLICY, 5000, T0, T0 + HOUR);
    assert.deepEqual(n, { kind: 'retry', at: T0 + HOUR + 240 * MIN });
  });

  it('a zero max age expires on the first failure', () => {
    assert.deepEqual(nextAttempt({ ...DEFAULT_RETRY_POLICY, maxAgeHours: 0 }, 1, T0, T0), { kind: 'expire' });
  });

  it('rejects bad policies and arguments with a message naming the field', () => {
    assert.throws(() => validateRetryPolicy({ ...DEFAULT_RETRY_POLICY, factor: 0.5 }), /factor must be a finite number >= 1/);
    assert.throws(() => validateRetryPolicy({ ...DEFAULT_RETRY_POLICY, initialMinutes: -1 }), /initialMinutes/);
    assert.throws(() => validateRetryPolicy({ ...DEFAULT_RETRY_POLICY, maxAgeHours: Number.NaN }), /maxAgeHours/);
    assert.throws(() => validateRetryPolicy({ ...DEFAULT_RETRY_POLICY, maxIntervalMinutes: Infinity }), /maxIntervalMinutes/);
    assert.throws(() => nextAttempt(DEFAULT_RETRY_POLICY, 0, T0, T0), /attempts must be an integer >= 1/);
    assert.throws(() => nextAttempt(DEFAULT_RETRY_POLICY, 1.5, T0, T0), /attempts/);
    assert.throws(() => nextAttempt(DEFAULT_RETRY_POLICY, 1, Number.NaN, T0), /firstQueuedAt/);
    assert.throws(() => nextAttempt(DEFAULT_RETRY_POLICY, 1, T0, -5), /now/);
  });
});
