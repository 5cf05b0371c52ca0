import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Engine } from '../../store/dialect.ts';
import { withAutoId } from '../../store/columns.ts';

/**
 * The archive's tables. Full text: SQLite keeps an FTS5 table with the trigram tokenizer
 * (any script, Chinese included, for queries of three characters or more); PostgreSQL keeps a
 * GIN index of pg_trgm trigrams on the same text. pg_trgm is a trusted extension (PostgreSQL
 * 13+), so the database owner may create it; where the server lacks it, the index is left out
 * and search still answers, by scanning.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const blob = engine === 'postgres' ? 'bytea' : 'blob';
  await withAutoId(engine, db.schema.createTable('archive_messages'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('lane', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    .addColumn('header_message_id', 'text')
    .addColumn('mail_from', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .addColumn('archived_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('body', blob)
    .addColumn('search_text', 'text')
    .addColumn('removed_at', 'bigint')
    .addColumn('removed_reason', 'text')
    .execute();
  await db.schema.createIndex('archive_messages_tenant_sent').on('archive_messages').columns(['tenant_id', 'sent_at']).execute();
  await db.schema.createIndex('archive_messages_header').on('archive_messages').columns(['header_message_id']).execute();
  await db.schema.createIndex('archive_messages_expires').on('archive_messages').columns(['expires_at']).execute();
  await db.schema.createIndex('archive_messages_day').on('archive_messages').columns(['day', 'id']).execute();

  await db.schema.createTable('archive_recipients')
    .addColumn('archive_id', 'bigint', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('archive_recipients_lookup').on('archive_recipients').columns(['recipient', 'sent_at']).execute();
  await db.schema.createIndex('archive_recipients_archive').on('archive_recipients').columns(['archive_id']).execute();

  await db.schema.createTable('archive_pending')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('prefix', blob, (c) => c.notNull())
    .addColumn('whole', 'integer', (c) => c.notNull())
    .addColumn('signed_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('archive_digests')
    .addColumn('day', 'text', (c) => c.primaryKey())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('root', 'text', (c) => c.notNull())
    .addColumn('prev_digest', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('archive_policies')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey())
    .addColumn('default_days', 'integer', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('archive_holds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('released_at', 'bigint')
    .addColumn('released_by', 'text')
    .execute();
  await db.schema.createIndex('archive_holds_tenant').on('archive_holds').columns(['tenant_id', 'released_at']).execute();

  await db.schema.createTable('archive_deletions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('archive_id', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_by_user', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'bigint')
    .execute();
  await db.schema.createIndex('archive_deletions_archive').on('archive_deletions').columns(['archive_id', 'status']).execute();

  if (engine === 'sqlite') {
    // External content would need triggers; a plain FTS table keyed by the archive row id is
    // written in the same transaction as the row and emptied when the body goes.
    await sql`create virtual table archive_fts using fts5(text, tokenize = 'trigram')`.execute(db);
  } else {
    const available = await sql<{ n: number }>`select count(*) as n from pg_available_extensions where name = 'pg_trgm'`.execute(db);
    if (Number(available.rows[0]?.n ?? 0) > 0) {
      await sql`create extension if not exists pg_trgm`.execute(db);
      await sql`create index archive_messages_text_trgm on archive_messages using gin (search_text gin_trgm_ops)`.execute(db);
    }
  }
}
