import { sql } from 'kysely';
import type { Store } from '../store/store.ts';

/**
 * Per-destination limits held across every node of one PostgreSQL store:
 *
 * - connections: a limited key (source IP + MX site) has `limit` numbered slots in
 *   `cluster_slots`; a node opens a session only while it holds one. A slot is a lease that the
 *   node's heartbeat renews; a node that dies stops renewing, and its slots are free again
 *   within one lease.
 * - message rates: GCRA. One row per key holds the theoretical arrival time (TAT) of the next
 *   message. A node takes a batch of n sends in one statement (TAT moves n intervals on) and
 *   spaces them locally: one round trip per batch, not per message.
 * - back-off: a destination's throttling state, published by the node whose replies started it,
 *   read by the others every second (see SharedBackoff).
 *
 * Single-node SQLite stores keep the in-process limits; nothing here is used there.
 */
export interface BackoffState {
  state: 'normal' | 'slowed' | 'suspended';
  perMinute: number;
  connections: number;
  suspendedUntil: number;
  reason: string | null;
  updatedAt: number;
  updatedBy: string;
}

/** What the egress pools of one node use; implemented over PostgreSQL by SharedLimits. */
export interface ClusterLimits {
  readonly nodeId: string;
  /** A connection slot for `key` below `limit`, or null when all are held. */
  acquireConnection(key: string, limit: number): Promise<number | null>;
  releaseConnection(key: string, slot: number): Promise<void>;
  /** Reserves `n` sends at `perMinute` for `key`; resolves to the time of the first (ms). */
  takeRate(key: string, n: number, perMinute: number): Promise<number>;
  publishBackoff(key: string, state: Omit<BackoffState, 'updatedAt' | 'updatedBy'>): void;
  /** Back-off states published by any node (refreshed in the background). */
  backoffs(): ReadonlyMap<string, BackoffState>;
  stop(): Promise<void>;
  readonly stats: { rateTrips: number; rateTaken: number; slotTrips: number; failures: number };
}

export interface SharedLimitsOptions {
  nodeId: string;
  /** Slot lease; renewed every third of it. */
  leaseMs?: number;
  /** How often back-off states are read. */
  syncMs?: number;
  now?: () => number;
  log?: { warn(obj: object, msg: string): void };
}

export class SharedLimits implements ClusterLimits {
  readonly nodeId: string;
  readonly stats = { rateTrips: 0, rateTaken: 0, slotTrips: 0, failures: 0 };
  readonly #store: Store;
  readonly #leaseMs: number;
  readonly #now: () => number;
  readonly #log: SharedLimitsOptions['log'];
  readonly #held = new Set<string>();
  #backoffs = new Map<string, BackoffState>();
  readonly #timers: NodeJS.Timeout[] = [];
  #busy: Promise<unknown> | null = null;
  #lastWarn = 0;

  constructor(store: Store, options: SharedLimitsOptions) {
    if (store.engine !== 'postgres') throw new Error('shared limits need the PostgreSQL store');
    this.#store = store;
    this.nodeId = options.nodeId;
    this.#leaseMs = options.leaseMs ?? 20_000;
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => {
        if (this.#busy) return;
        this.#busy = fn().catch((err: unknown) => this.#failed(err)).finally(() => {
          this.#busy = null;
        });
      }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(Math.max(100, Math.floor(this.#leaseMs / 3)), () => this.#renew());
    every(options.syncMs ?? 1000, () => this.#sync());
  }

  async acquireConnection(key: string, limit: number): Promise<number | null> {
    const now = this.#now();
    // Two nodes may pick the same free slot, and one of them loses it: it tries again while
    // the count says a slot is free (a few times at most; sessions open rarely).
    for (let i = 0; i < 8; i++) {
      this.stats.slotTrips++;
      const r = await sql<{ slot: number }>`
        with free as (
          select s as slot from generate_series(0, ${limit - 1}::int) s
          where not exists (select 1 from cluster_slots c where c.key = ${key} and c.slot = s and c.owner is not null and c.expires_at >= ${now})
          order by random() limit 1)
        insert into cluster_slots (key, slot, owner, expires_at) select ${key}, slot, ${this.nodeId}, ${now + this.#leaseMs} from free
        on conflict (key, slot) do update set owner = excluded.owner, expires_at = excluded.expires_at
          where cluster_slots.owner is null or cluster_slots.expires_at < ${now}
        returning slot`.execute(this.#store.db);
      const slot = r.rows[0]?.slot;
      if (slot !== undefined) {
        this.#held.add(`${key}\u0000${slot}`);
        return slot;
      }
      const taken = await sql<{ n: number }>`select count(*)::int as n from cluster_slots where key = ${key} and owner is not null and expires_at >= ${now} and slot < ${limit}`.execute(this.#store.db);
      if ((taken.rows[0]?.n ?? 0) >= limit) return null;
    }
    return null;
  }

  /** Frees a slot; never rejects (a slot not freed runs out with its lease). */
  async releaseConnection(key: string, slot: number): Promise<void> {
    this.#held.delete(`${key}\u0000${slot}`);
    await sql`update cluster_slots set owner = null where key = ${key} and slot = ${slot} and owner = ${this.nodeId}`.execute(this.#store.db)
      .catch((err: unknown) => this.#failed(err));
  }

  async takeRate(key: string, n: number, perMinute: number): Promise<number> {
    const interval = 60_000 / perMinute;
    const now = this.#now();
    this.stats.rateTrips++;
    this.stats.rateTaken += n;
    const r = await sql<{ tat: number }>`
      insert into cluster_rates (key, tat) values (${key}, ${Math.ceil(now + n * interval)})
      on conflict (key) do update set tat = greatest(cluster_rates.tat, ${now}) + ${Math.ceil(n * interval)}
      returning tat`.execute(this.#store.db);
    const tat = Number(r.rows[0]!.tat);
    return tat - Math.ceil(n * interval);
  }

  publishBackoff(key: string, s: Omit<BackoffState, 'updatedAt' | 'updatedBy'>): void {
    const at = this.#now();
    const row = { key, state: s.state, per_minute: s.perMinute, connections: s.connections, suspended_until: s.suspendedUntil, reason: s.reason?.slice(0, 300) ?? null, updated_at: at, updated_by: this.nodeId };
    this.#backoffs.set(key, { ...s, updatedAt: at, updatedBy: this.nodeId });
    void this.#store.db.insertInto('cluster_backoff').values(row)
      .onConflict((oc) => oc.column('key').doUpdateSet({ state: row.state, per_minute: row.per_minute, connections: row.connections, suspended_until: row.suspended_until, reason: row.reason, updated_at: row.updated_at, updated_by: row.updated_by })
        .where('cluster_backoff.updated_at', '<', at))
      .execute().catch((err: unknown) => this.#failed(err));
  }

  backoffs(): ReadonlyMap<string, BackoffState> {
    return this.#backoffs;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    await this.#busy;
    await this.#store.db.updateTable('cluster_slots').set({ owner: null }).where('owner', '=', this.nodeId).execute().catch(() => {});
  }

  async #renew(): Promise<void> {
    if (!this.#held.size) return;
    await this.#store.db.updateTable('cluster_slots').set({ expires_at: this.#now() + this.#leaseMs }).where('owner', '=', this.nodeId).execute();
  }

  async #sync(): Promise<void> {
    // Back-off states change rarely and last minutes: the rows of the last hour are few.
    const rows = await this.#store.db.selectFrom('cluster_backoff').selectAll().where('updated_at', '>=', this.#now() - 3_600_000).execute();
    const next = new Map<string, BackoffState>();
    for (const r of rows) {
      next.set(r.key, {
        state: r.state as BackoffState['state'], perMinute: Number(r.per_minute), connections: r.connections, suspendedUntil: Number(r.suspended_until),
        reason: r.reason, updatedAt: Number(r.updated_at), updatedBy: r.updated_by,
      });
    }
    this.#backoffs = next;
  }

  #failed(err: unknown): void {
    this.stats.failures++;
    // The store may be away (restart, fail-over): warn at most every 30 s.
    if (this.#now() - this.#lastWarn > 30_000) {
      this.#lastWarn = this.#now();
      this.#log?.warn({ err: (err as Error).message }, 'shared delivery limits: store unreachable; retrying');
    }
  }
}
