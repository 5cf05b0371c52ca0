import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.ts';

/**
 * Security hardening of the foundation:
 * - console_users.totp_last_step: the last TOTP time step accepted for the user, so each code
 *   is accepted once (kept in the store: every node of a cluster sees it);
 * - console_users.totp_pending_secret: a secret being enrolled, not in force until confirmed,
 *   so starting an enrolment never switches two-factor sign-in off;
 * - login_throttle: failed sign-ins counted per (user name, client address) and per client
 *   address, for every name tried, known or not;
 * - sending_accounts.quota_bytes / used_bytes: bytes accepted for delivery count in the quota.
 */
export async function up(db: Kysely<unknown>, _engine: Engine): Promise<void> {
  await db.schema.alterTable('console_users').addColumn('totp_last_step', 'bigint').execute();
  await db.schema.alterTable('console_users').addColumn('totp_pending_secret', 'text').execute();
  await db.schema.createTable('login_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_started_at', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('sending_accounts').addColumn('quota_bytes', 'bigint').execute();
  await db.schema.alterTable('sending_accounts').addColumn('used_bytes', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}
