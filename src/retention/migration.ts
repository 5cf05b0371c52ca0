import type { Kysely } from 'kysely';

/** Indexes the prune walks by: finished messages by age, and the live manifests that still name shared parts. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('delivery_messages_created').on('delivery_messages').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('delivery_messages_format').on('delivery_messages').columns(['body_format']).execute();
  await db.schema.createIndex('tracking_events_at').on('tracking_events').columns(['at']).execute();
}
