import type { Kysely } from 'kysely';

const DIMENSIONS = ['tenant_id', 'account_id', 'client_ip', 'source_ip', 'sender_domain', 'recipient_domain', 'outcome', 'reason'] as const;

/**
 * Sending statistics kept as counters, so a query's cost depends on the buckets it reads and
 * not on the number of events: `stats_hourly` (one row per UTC hour and combination of
 * dimensions, written in the transaction that writes the events) and `stats_daily` (the same
 * folded into platform-zone days, kept 13 months). Unknown dimensions are '' rather than null
 * so that the primary key, and the upsert on it, treat them as one value on both engines.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [table, time, type] of [['stats_hourly', 'hour', 'bigint'], ['stats_daily', 'day', 'text']] as const) {
    let t = db.schema.createTable(table).addColumn(time, type, (c) => c.notNull());
    for (const d of DIMENSIONS) t = t.addColumn(d, 'text', (c) => c.notNull());
    await t.addColumn('n', 'bigint', (c) => c.notNull()).addPrimaryKeyConstraint(`${table}_pk`, [time, ...DIMENSIONS] as never).execute();
    await db.schema.createIndex(`${table}_tenant_${time}`).on(table).columns(['tenant_id', time]).execute();
  }
}
