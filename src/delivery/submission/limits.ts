/**
 * Guards of the submission server: AUTH failure lock-out (keyed by user name and client
 * address, and by client address alone), concurrent connections per account, and a message
 * rate per account. The lock-outs are kept in the store on PostgreSQL (SharedAuthLockout), so
 * a guesser cannot spread attempts over the nodes; the others live in each node's memory.
 */
export interface Lockout {
  /** Seconds left on a lock-out, or 0. */
  lockedFor(key: string): number | Promise<number>;
  fail(key: string): void | Promise<void>;
  succeed(key: string): void | Promise<void>;
}

/** The store-backed counters a shared lock-out counts with (the cluster capability's). */
export interface WindowCounters {
  hit(key: string, windowMs: number, now?: number, holdAt?: number): Promise<{ count: number; expiresAt: number }>;
  peek(key: string, now?: number): Promise<{ count: number; expiresAt: number } | null>;
  clear(key: string): Promise<void>;
}

/** The lock-out held across every node: failures counted in the store, per key. */
export class SharedAuthLockout implements Lockout {
  readonly #counters: WindowCounters;
  readonly #name: string;
  readonly #limit: number;
  readonly #lockMs: number;

  constructor(counters: WindowCounters, name: string, limit: number, lockSeconds: number) {
    this.#counters = counters;
    this.#name = name;
    this.#limit = limit;
    this.#lockMs = lockSeconds * 1000;
  }

  /** PostgreSQL text cannot hold NUL (the in-memory keys' separator): keys are stored encoded. */
  #key(key: string): string {
    return `${this.#name}:${encodeURIComponent(key)}`;
  }

  async lockedFor(key: string, now = Date.now()): Promise<number> {
    const c = await this.#counters.peek(this.#key(key), now);
    return c && c.count >= this.#limit ? Math.ceil((c.expiresAt - now) / 1000) : 0;
  }

  async fail(key: string, now = Date.now()): Promise<void> {
    // Failures within one lock-out length count together; the one reaching the limit locks for a full length.
    await this.#counters.hit(this.#key(key), this.#lockMs, now, this.#limit);
  }

  async succeed(key: string): Promise<void> {
    await this.#counters.clear(this.#key(key));
  }
}

export class AuthLockout implements Lockout {
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
