import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.ts';
import { withAutoId } from '../columns.ts';

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema.createTable('delivery_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('lane', 'text', (c) => c.notNull())
    .addColumn('mail_from', 'text', (c) => c.notNull())
    .addColumn('from_domain', 'text', (c) => c.notNull())
    .addColumn('body', engine === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('header_message_id', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('recipient_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('delivery_messages_tenant_created').on('delivery_messages').columns(['tenant_id', 'created_at']).execute();

  await db.schema.createTable('delivery_recipients')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_id', 'text', (c) => c.notNull().references('delivery_messages.id'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('lane', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('first_queued_at', 'bigint', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('site', 'text')
    .addColumn('last_reply_code', 'integer')
    .addColumn('last_text', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The claim scan: due rows of one lane, oldest first. A plain index rather than a partial
  // one: SQLite cannot match a bound `state = ?` against a partial index's literal.
  await db.schema.createIndex('delivery_recipients_due').on('delivery_recipients')
    .columns(['state', 'lane', 'next_attempt_at']).execute();
  await db.schema.createIndex('delivery_recipients_message').on('delivery_recipients').columns(['message_id']).execute();
  await db.schema.createIndex('delivery_recipients_account_state').on('delivery_recipients').columns(['account_id', 'state']).execute();
  // No index on lease_owner: every claim rewrites it, and the one query by owner (a node
  // returning its leases at start and stop) reaches the queued rows through the due index.

  await withAutoId(engine, db.schema.createTable('delivery_events'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('recipient_id', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('lane', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('source_ip', 'text')
    .addColumn('mx_host', 'text')
    .addColumn('site', 'text')
    .addColumn('reply_code', 'integer')
    .addColumn('enhanced_status', 'text')
    .addColumn('text', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .execute();
  await db.schema.createIndex('delivery_events_at').on('delivery_events').columns(['at']).execute();
  await db.schema.createIndex('delivery_events_tenant_at').on('delivery_events').columns(['tenant_id', 'at']).execute();
  await db.schema.createIndex('delivery_events_message').on('delivery_events').columns(['message_id']).execute();
  await db.schema.createIndex('delivery_events_recipient_at').on('delivery_events').columns(['recipient', 'at']).execute();
  await db.schema.createIndex('delivery_events_outcome_at').on('delivery_events').columns(['outcome', 'at']).execute();

  await db.schema.createTable('delivery_pauses')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('operator', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('delivery_pauses_pk', ['scope', 'target'])
    .execute();
}
