/**
 * Per-node guards of the submission server: AUTH failure lock-out (keyed by user name and
 * client address, and by client address alone), concurrent connections per account, and a
 * message rate per account. They live in memory: each submission node enforces them for the
 * clients connected to it.
 */
export class AuthLockout {
  readonly #failures = new Map<string, { count: number; lockedUntil: number; lastAt: number }>();
  readonly #limit: number;
  readonly #lockMs: number;

  constructor(limit: number, lockSeconds: number) {
    this.#limit = limit;
    this.#lockMs = lockSeconds * 1000;
  }

  static key(username: string, ip: string): string {
    return `${username.toLowerCase()}\u0000${ip}`;
  }

  /** Seconds left on a lock-out, or 0. */
  lockedFor(key: string, now = Date.now()): number {
    const f = this.#failures.get(key);
    return f && f.lockedUntil > now ? Math.ceil((f.lockedUntil - now) / 1000) : 0;
  }

  fail(key: string, now = Date.now()): void {
    const f = this.#failures.get(key);
    // Failures older than the lock-out window are forgotten rather than accumulating forever.
    const count = f && now - f.lastAt < this.#lockMs ? f.count + 1 : 1;
    this.#failures.set(key, { count, lastAt: now, lockedUntil: count >= this.#limit ? now + this.#lockMs : 0 });
    if (this.#failures.size > 100_000) this.#prune(now);
  }

  succeed(key: string): void {
    this.#failures.delete(key);
  }

  #prune(now: number): void {
    for (const [k, f] of this.#failures) if (f.lockedUntil < now && now - f.lastAt > this.#lockMs) this.#failures.delete(k);
  }
}

export class ConnectionCounter {
  readonly #open = new Map<string, number>();

  tryOpen(accountId: string, max: number): boolean {
    const n = this.#open.get(accountId) ?? 0;
    if (n >= max) return false;
    this.#open.set(accountId, n + 1);
    return true;
  }

  close(accountId: string): void {
    const n = (this.#open.get(accountId) ?? 1) - 1;
    if (n <= 0) this.#open.delete(accountId);
    else this.#open.set(accountId, n);
  }

  count(accountId: string): number {
    return this.#open.get(accountId) ?? 0;
  }
}

/** A token bucket per account: `perMinute` messages a minute, bursting up to one minute's worth. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  take(accountId: string, perMinute: number, now = Date.now()): boolean {
    const b = this.#buckets.get(accountId) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) * perMinute) / 60_000);
    b.at = now;
    this.#buckets.set(accountId, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
