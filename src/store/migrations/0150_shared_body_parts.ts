import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.ts';

/**
 * Bodies stored by content: parts shared by many messages (an attachment, an unpersonalised
 * text) are kept once per tenant in delivery_parts, and a message's body may be a manifest
 * that names them (body_format 1). Existing bodies stay raw (0).
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema.alterTable('delivery_messages').addColumn('body_format', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createTable('delivery_parts')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('content', engine === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('delivery_parts_pk', ['tenant_id', 'hash'])
    .execute();
}
