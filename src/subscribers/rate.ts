/**
 * Fixed-window counters in memory, for the public form of a single (SQLite) node; on
 * PostgreSQL the form counts in the store, across every node (cluster SharedWindowLimiter).
 */
export class WindowLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #counts = new Map<string, { start: number; n: number }>();

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Counts one request; returns the seconds to wait when over the limit, else null. */
  take(key: string, now = Date.now()): number | null {
    if (this.#counts.size > 100_000) this.#sweep(now);
    const c = this.#counts.get(key);
    if (!c || now - c.start >= this.#windowMs) {
      this.#counts.set(key, { start: now, n: 1 });
      return null;
    }
    if (c.n >= this.#limit) return Math.max(1, Math.ceil((c.start + this.#windowMs - now) / 1000));
    c.n++;
    return null;
  }

  #sweep(now: number): void {
    for (const [k, c] of this.#counts) if (now - c.start >= this.#windowMs) this.#counts.delete(k);
  }
}
