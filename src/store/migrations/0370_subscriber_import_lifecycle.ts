import type { Kysely } from 'kysely';

// Imports that can fail, resume from their last committed line, be discarded, and be worked by
// one node at a time (a lease, as campaigns have).
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = () => db.schema.alterTable('subscriber_imports');
  await t().addColumn('new_status', 'text', (c) => c.notNull().defaultTo('subscribed')).execute();
  await t().addColumn('checkpoint_line', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await t().addColumn('file_path', 'text').execute();
  await t().addColumn('file_bytes', 'bigint').execute();
  await t().addColumn('file_sha256', 'text').execute();
  await t().addColumn('lease_owner', 'text').execute();
  await t().addColumn('lease_expires_at', 'bigint').execute();
  await db.schema.createIndex('subscriber_imports_status').on('subscriber_imports').columns(['status', 'lease_expires_at']).execute();
}
