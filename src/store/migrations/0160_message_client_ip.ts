import type { Kysely } from 'kysely';

/**
 * The address of the business system that submitted a message (SMTP peer or HTTP client):
 * statistics and the delivery log group and filter by it. Older messages have none.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('delivery_messages').addColumn('client_ip', 'text').execute();
}
