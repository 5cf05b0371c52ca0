import { sql } from 'kysely';
import type { Store } from '../store/store.ts';

export interface Count {
  count: number;
  /** When the window (or a lock-out) ends, epoch ms. */
  expiresAt: number;
}

/**
 * Counters with a window, kept in the store so every node counts the same requests: failed
 * logins per (user, address), form posts per address. One upsert per hit, on either engine.
 */
export class StoreCounters {
  readonly #store: Store;
  #hits = 0;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Counts one more for `key`. A window that has ended starts again at 1. `holdAt`: when the
   * count reaches it, the window is pushed to a full `windowMs` from now (a lock-out starts
   * at the failure that reached the limit).
   */
  async hit(key: string, windowMs: number, now = Date.now(), holdAt = Infinity): Promise<Count> {
    if (++this.#hits % 1000 === 0) await this.#prune(now);
    const hold = Number.isFinite(holdAt) ? holdAt : 2 ** 31 - 1;
    const r = await sql<{ count: number; expires_at: number }>`
      insert into cluster_counters (key, count, expires_at) values (${key}, 1, ${now + windowMs})
      on conflict (key) do update set
        count = case when cluster_counters.expires_at <= ${now} then 1 else cluster_counters.count + 1 end,
        expires_at = case
          when cluster_counters.expires_at <= ${now} then ${now + windowMs}
          when cluster_counters.count + 1 >= ${hold} then ${now + windowMs}
          else cluster_counters.expires_at end
      returning count, expires_at`.execute(this.#store.db);
    const row = r.rows[0]!;
    return { count: Number(row.count), expiresAt: Number(row.expires_at) };
  }

  /** The live count of `key`, or null when it has none (or its window ended). */
  async peek(key: string, now = Date.now()): Promise<Count | null> {
    const r = await this.#store.db.selectFrom('cluster_counters').select(['count', 'expires_at']).where('key', '=', key).where('expires_at', '>', now).executeTakeFirst();
    return r ? { count: Number(r.count), expiresAt: Number(r.expires_at) } : null;
  }

  async clear(key: string): Promise<void> {
    await this.#store.db.deleteFrom('cluster_counters').where('key', '=', key).execute();
  }

  async #prune(now: number): Promise<void> {
    await this.#store.db.deleteFrom('cluster_counters').where('expires_at', '<=', now).execute();
  }
}

/** A fixed-window limit over StoreCounters: the same answers as an in-memory window limiter. */
export class SharedWindowLimiter {
  readonly #counters: StoreCounters;
  readonly #name: string;
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(store: Store, name: string, limit: number, windowMs: number) {
    this.#counters = new StoreCounters(store);
    this.#name = name;
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Counts one request; returns the seconds to wait when over the limit, else null. */
  async take(key: string, now = Date.now()): Promise<number | null> {
    const c = await this.#counters.hit(`${this.#name}:${encodeURIComponent(key)}`, this.#windowMs, now);
    return c.count > this.#limit ? Math.max(1, Math.ceil((c.expiresAt - now) / 1000)) : null;
  }
}
