import { sql } from 'kysely';
import { recordOperation } from '../audit/log.ts';
import type { Actor } from '../audit/log.ts';
import { conflict, invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Executor, Store } from '../store/store.ts';
import { matchesFilter } from './search.ts';
import type { ArchiveFilter } from './search.ts';

export type HoldKind = 'address' | 'tenant' | 'search';

export interface Hold {
  id: string;
  tenantId: string;
  kind: HoldKind;
  address?: string;
  search?: ArchiveFilter;
  reason: string;
  createdBy: string;
  createdAt: string;
  releasedAt: string | null;
}

function toHold(r: { id: string; tenant_id: string; kind: string; value: string; reason: string; created_by: string; created_at: number; released_at: number | null }): Hold {
  return {
    id: r.id, tenantId: r.tenant_id, kind: r.kind as HoldKind, reason: r.reason, createdBy: r.created_by, createdAt: new Date(Number(r.created_at)).toISOString(),
    releasedAt: r.released_at === null ? null : new Date(Number(r.released_at)).toISOString(),
    ...(r.kind === 'address' ? { address: r.value } : r.kind === 'search' ? { search: JSON.parse(r.value) as ArchiveFilter } : {}),
  };
}

export async function createHold(store: Store, actor: Actor, input: { tenantId: string; kind: HoldKind; address?: string; search?: ArchiveFilter; reason: string }, now = Date.now()): Promise<Hold> {
  if (!input.reason.trim()) throw invalid('a legal hold needs a reason', [{ field: '/reason', message: 'required' }]);
  let value = '';
  if (input.kind === 'address') {
    value = (input.address ?? '').trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(value)) throw invalid('address is not an email address', [{ field: '/address', message: 'an email address' }]);
  } else if (input.kind === 'search') {
    const s = input.search ?? {};
    if (!Object.values(s).some((v) => v !== undefined && v !== '')) throw invalid('a hold by search needs at least one condition', [{ field: '/search', message: 'q, recipient, sender, subject, messageId, tag, from or to' }]);
    value = JSON.stringify({ ...s, tenantId: input.tenantId });
  }
  const id = newId('hold', now);
  await store.transaction(async (trx) => {
    await trx.insertInto('archive_holds').values({ id, tenant_id: input.tenantId, kind: input.kind, value, reason: input.reason, created_by: actor.operator, created_at: now, released_at: null, released_by: null }).execute();
    await recordOperation(trx, actor, { operation: 'archive.hold', objectType: 'archive_hold', objectId: id, tenantId: input.tenantId, description: `legal hold (${input.kind}) placed: ${input.reason}`, details: { kind: input.kind, value } }, now);
  });
  const row = await store.db.selectFrom('archive_holds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return toHold(row);
}

export async function releaseHold(store: Store, actor: Actor, id: string, scope: string | null, now = Date.now()): Promise<Hold> {
  const row = await store.db.selectFrom('archive_holds').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || (scope !== null && row.tenant_id !== scope)) throw notFound('legal hold');
  if (row.released_at !== null) throw conflict('the legal hold is already released');
  await store.transaction(async (trx) => {
    await trx.updateTable('archive_holds').set({ released_at: now, released_by: actor.operator }).where('id', '=', id).execute();
    await recordOperation(trx, actor, { operation: 'archive.hold_release', objectType: 'archive_hold', objectId: id, tenantId: row.tenant_id, description: `legal hold (${row.kind}) released` }, now);
  });
  return toHold({ ...row, released_at: now });
}

export async function listHolds(db: Executor, scope: string | null): Promise<Hold[]> {
  let q = db.selectFrom('archive_holds').selectAll().where('released_at', 'is', null);
  if (scope !== null) q = q.where('tenant_id', '=', scope);
  return (await q.orderBy('created_at').execute()).map(toHold);
}

type HoldRow = { id: number; tenant_id: string; search_text: string | null; sender: string; subject: string; tags: string; header_message_id: string | null; message_id: string; sent_at: number };

/** Which of these archived rows an active legal hold keeps: by tenant, by address (recipient or sender), or by search. */
export async function heldAmong(db: Executor, rows: HoldRow[]): Promise<Set<number>> {
  const held = new Set<number>();
  if (!rows.length) return held;
  const tenants = [...new Set(rows.map((r) => r.tenant_id))];
  const holds = await db.selectFrom('archive_holds').select(['tenant_id', 'kind', 'value']).where('tenant_id', 'in', tenants).where('released_at', 'is', null).execute();
  if (!holds.length) return held;
  const ids = rows.map((r) => Number(r.id));
  const recipients = new Map<number, string[]>();
  for (const r of await db.selectFrom('archive_recipients').select(['archive_id', 'recipient']).where('archive_id', 'in', ids).execute()) {
    recipients.set(Number(r.archive_id), [...(recipients.get(Number(r.archive_id)) ?? []), r.recipient]);
  }
  for (const row of rows) {
    const list = recipients.get(Number(row.id)) ?? [];
    for (const h of holds) {
      if (h.tenant_id !== row.tenant_id) continue;
      const hit = h.kind === 'tenant' || (h.kind === 'address' && (list.includes(h.value) || row.sender === h.value)) || (h.kind === 'search' && matchesFilter(JSON.parse(h.value) as ArchiveFilter, row, list));
      if (hit) {
        held.add(Number(row.id));
        break;
      }
    }
  }
  return held;
}

/** Empties a row's body and search text, keeping its id and hash for the digests. */
export async function removeBodies(db: Executor, engine: 'sqlite' | 'postgres', ids: number[], reason: 'expired' | 'deleted', now: number): Promise<void> {
  if (!ids.length) return;
  await db.updateTable('archive_messages').set({ body: null, search_text: null, removed_at: now, removed_reason: reason }).where('id', 'in', ids).execute();
  if (engine === 'sqlite') await sql`delete from archive_fts where rowid in (${sql.join(ids)})`.execute(db);
}

/**
 * Retention of archived bodies: rows past their expiry, oldest first, a batch at a time; rows a
 * legal hold keeps are left as they are. Returns how many were removed and how many were held.
 */
export async function expireArchived(store: Store, options: { now?: number; batchSize?: number; afterId?: number } = {}): Promise<{ removed: number; held: number; lastId: number }> {
  const now = options.now ?? Date.now();
  const rows = await store.db.selectFrom('archive_messages').select(['id', 'tenant_id', 'search_text', 'sender', 'subject', 'tags', 'header_message_id', 'message_id', 'sent_at'])
    .where('expires_at', '<=', now).where('removed_at', 'is', null).where('id', '>', options.afterId ?? 0).orderBy('id').limit(options.batchSize ?? 500).execute();
  const typed = rows.map((r) => ({ ...r, id: Number(r.id), sent_at: Number(r.sent_at) }));
  const held = await heldAmong(store.db, typed);
  const ids = typed.filter((r) => !held.has(r.id)).map((r) => r.id);
  await store.transaction((trx) => removeBodies(trx, store.engine, ids, 'expired', now));
  return { removed: ids.length, held: held.size, lastId: typed.length ? typed[typed.length - 1]!.id : -1 };
}
