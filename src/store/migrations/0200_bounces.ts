import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.ts';
import { withAutoId } from '../columns.ts';

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await withAutoId(engine, db.schema.createTable('suppressions'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('bounce_reason', 'text')
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('suppressions_tenant_address', ['tenant_id', 'address'])
    .execute();
  await db.schema.createIndex('suppressions_tenant_created').on('suppressions').columns(['tenant_id', 'created_at']).execute();

  await db.schema.createTable('inbound_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('remote_ip', 'text', (c) => c.notNull())
    .addColumn('mail_from', 'text', (c) => c.notNull())
    .addColumn('rcpt_to', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('raw', engine === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('parse_status', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text')
    .addColumn('summary', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inbound_messages_received').on('inbound_messages').columns(['received_at']).execute();

  await withAutoId(engine, db.schema.createTable('bounce_events'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('inbound_id', 'text')
    .addColumn('tenant_id', 'text')
    .addColumn('message_id', 'text')
    .addColumn('recipient_id', 'text')
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('headline', 'text', (c) => c.notNull())
    .addColumn('hard', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reply_code', 'text', (c) => c.notNull())
    .addColumn('diagnostic', 'text', (c) => c.notNull())
    .addColumn('linked_by', 'text', (c) => c.notNull())
    .execute();
  // Soft-bounce counting looks up one tenant's address over a time window.
  await db.schema.createIndex('bounce_events_tenant_recipient_at').on('bounce_events').columns(['tenant_id', 'recipient', 'at']).execute();
  await db.schema.createIndex('bounce_events_message').on('bounce_events').columns(['message_id']).execute();
}
