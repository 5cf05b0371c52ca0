import { sql } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import type { Store, Tx } from '../../store/store.ts';
import { mergeAttributes } from '../attributes.ts';
import type { MemberStatus } from '../tables.ts';

export interface ImportRow {
  line: number;
  email: string;
  name: string | null;
  attributes: Record<string, string>;
}

export interface BatchContext {
  importId: string;
  tenantId: string;
  listId: string;
  /** The status given to addresses new on the list. */
  status: MemberStatus;
}

export interface BatchCounts {
  imported: number;
  updated: number;
  duplicates: number;
}

interface Existing {
  id: number;
  name: string | null;
  attributes: string;
  import_id: string | null;
  status: MemberStatus | null;
}

/** What to write for one row, decided from what the store already holds. */
interface Planned {
  email: string;
  name: string | null;
  attributes: string;
  /** Set when the subscriber exists. */
  id: number | null;
  /** True when the address is not on the list yet. */
  addToList: boolean;
}

/**
 * The rules of an import, the same on both engines:
 * - an address this import already wrote (import_id) is a repeat within the file: skipped,
 *   the first occurrence wins;
 * - an address already on the list is updated (name, attributes merged) and keeps its status:
 *   an import never re-subscribes someone who unsubscribed, bounced or complained;
 * - any other address is added to the list with `ctx.status`.
 */
function decide(ctx: BatchContext, r: ImportRow, e: Existing | undefined, counts: BatchCounts): Planned | null {
  if (e && e.import_id === ctx.importId) {
    counts.duplicates++;
    return null;
  }
  if (e?.status) counts.updated++;
  else counts.imported++;
  return {
    email: r.email, name: r.name ?? e?.name ?? null, id: e?.id ?? null, addToList: !e?.status,
    attributes: e ? mergeAttributes(e.attributes, r.attributes) : JSON.stringify(r.attributes),
  };
}

export type BatchWriter = (trx: Tx, rows: ImportRow[], now: number) => Promise<BatchCounts>;

/**
 * A writer for one import run. Each engine gets its fastest honest path, measured on a
 * million rows: on SQLite, statements prepared once and run per row on the raw handle inside
 * the Kysely transaction (which holds the one connection, so nothing interleaves); building
 * and preparing a 7,000-parameter statement per batch cost more than the rows themselves,
 * and its native memory escaped the garbage collector's accounting. On PostgreSQL, one
 * look-up and one upsert-plus-membership statement per batch with array parameters (unnest),
 * two round trips whatever the batch size.
 */
export function batchWriter(store: Store, ctx: BatchContext): BatchWriter {
  return store.sqlite ? sqliteWriter(store.sqlite, ctx) : postgresWriter(ctx);
}

function sqliteWriter(db: SqliteDatabase.Database, ctx: BatchContext): BatchWriter {
  // Most rows of an import are new: try the insert first and look up only when it conflicts.
  const insert = db.prepare(`insert into subscribers (tenant_id, email, name, attributes, import_id, created_at, updated_at)
    values (?, ?, ?, ?, ?, ?, ?) on conflict (tenant_id, email) do nothing`);
  const lookup = db.prepare(`select s.id, s.name, s.attributes, s.import_id, m.status from subscribers s
    left join list_members m on m.subscriber_id = s.id and m.list_id = ? where s.tenant_id = ? and s.email = ?`);
  const update = db.prepare(`update subscribers set name = ?, attributes = ?, import_id = ?, updated_at = ? where id = ?`);
  const member = db.prepare(`insert into list_members (list_id, subscriber_id, tenant_id, status, source, created_at, updated_at, confirmed_at, unsubscribed_at)
    values (?, ?, ?, ?, 'import', ?, ?, ?, null) on conflict (list_id, subscriber_id) do nothing`);
  return async (_trx, rows, now) => {
    const counts: BatchCounts = { imported: 0, updated: 0, duplicates: 0 };
    const confirmedAt = ctx.status === 'subscribed' ? now : null;
    for (const r of rows) {
      const attributes = JSON.stringify(r.attributes);
      const res = insert.run(ctx.tenantId, r.email, r.name, attributes, ctx.importId, now, now);
      if (res.changes === 1) {
        counts.imported++;
        member.run(ctx.listId, Number(res.lastInsertRowid), ctx.tenantId, ctx.status, now, now, confirmedAt);
        continue;
      }
      const p = decide(ctx, r, lookup.get(ctx.listId, ctx.tenantId, r.email) as Existing | undefined, counts);
      if (!p) continue;
      update.run(p.name, p.attributes, ctx.importId, now, p.id);
      if (p.addToList) member.run(ctx.listId, p.id, ctx.tenantId, ctx.status, now, now, confirmedAt);
    }
    return counts;
  };
}

function postgresWriter(ctx: BatchContext): BatchWriter {
  return async (trx, rows, now) => {
    const counts: BatchCounts = { imported: 0, updated: 0, duplicates: 0 };
    // FOR UPDATE: a row an API call is changing right now is waited for, not overwritten blind.
    const found = await sql<Existing & { email: string }>`select s.id, s.email, s.name, s.attributes, s.import_id, m.status from subscribers s
      left join list_members m on m.subscriber_id = s.id and m.list_id = ${ctx.listId}
      where s.tenant_id = ${ctx.tenantId} and s.email = any(${rows.map((r) => r.email)}::text[]) for update of s`.execute(trx);
    const existing = new Map(found.rows.map((e) => [e.email, e]));
    const planned = rows.map((r) => decide(ctx, r, existing.get(r.email), counts)).filter((p): p is Planned => p !== null);
    if (!planned.length) return counts;
    const confirmedAt = ctx.status === 'subscribed' ? now : null;
    await sql`with up as (
        insert into subscribers (tenant_id, email, name, attributes, import_id, created_at, updated_at)
        select ${ctx.tenantId}, e, n, a, ${ctx.importId}, ${now}::bigint, ${now}::bigint
        from unnest(${planned.map((p) => p.email)}::text[], ${planned.map((p) => p.name)}::text[], ${planned.map((p) => p.attributes)}::text[]) as u(e, n, a)
        on conflict (tenant_id, email) do update set name = excluded.name, attributes = excluded.attributes, import_id = excluded.import_id, updated_at = excluded.updated_at
        returning id, email)
      insert into list_members (list_id, subscriber_id, tenant_id, status, source, created_at, updated_at, confirmed_at, unsubscribed_at)
      select ${ctx.listId}, up.id, ${ctx.tenantId}, ${ctx.status}, 'import', ${now}::bigint, ${now}::bigint, ${confirmedAt}::bigint, null
      from up where up.email = any(${planned.filter((p) => p.addToList).map((p) => p.email)}::text[])
      on conflict (list_id, subscriber_id) do nothing`.execute(trx);
    return counts;
  };
}
