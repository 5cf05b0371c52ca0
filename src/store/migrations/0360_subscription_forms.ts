import type { Kysely } from 'kysely';

// The hosted subscribe form of a list, and who sends its double opt-in confirmation mail.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('subscriber_lists').addColumn('form_enabled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('subscriber_lists').addColumn('sender_account_id', 'text').execute();
  await db.schema.alterTable('subscriber_lists').addColumn('sender_from', 'text').execute();
}
