import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/** The cluster capability's shared state (see ../tables.ts); scheduled jobs move here from ops_schedule. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('cluster_jobs')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_run_at', 'bigint')
    .execute();
  // Runs already recorded keep their period: a job does not run again early after the upgrade.
  await sql`insert into cluster_jobs (name, owner, lease_expires_at, last_run_at) select name, null, null, last_run_at from ops_schedule`.execute(db);
  await db.schema.createTable('cluster_slots')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('slot', 'integer', (c) => c.notNull())
    .addColumn('owner', 'text')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('cluster_slots_pk', ['key', 'slot'])
    .execute();
  await db.schema.createTable('cluster_rates')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('tat', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createTable('cluster_backoff')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('per_minute', 'real', (c) => c.notNull())
    .addColumn('connections', 'integer', (c) => c.notNull())
    .addColumn('suspended_until', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createTable('cluster_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}
