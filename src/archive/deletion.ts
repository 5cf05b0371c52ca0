import { recordOperation } from '../audit/log.ts';
import type { Actor } from '../audit/log.ts';
import { conflict, forbidden, invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Store } from '../store/store.ts';
import { heldAmong, removeBodies } from './holds.ts';

export interface DeletionRequest {
  id: string;
  tenantId: string;
  archiveId: number;
  reason: string;
  status: 'pending' | 'approved' | 'rejected';
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
}

type Row = { id: string; tenant_id: string; archive_id: number; reason: string; status: string; requested_by: string; requested_at: number; decided_by: string | null; decided_at: number | null };
const toRequest = (r: Row): DeletionRequest => ({
  id: r.id, tenantId: r.tenant_id, archiveId: Number(r.archive_id), reason: r.reason, status: r.status as DeletionRequest['status'], requestedBy: r.requested_by,
  requestedAt: new Date(Number(r.requested_at)).toISOString(), decidedBy: r.decided_by, decidedAt: r.decided_at === null ? null : new Date(Number(r.decided_at)).toISOString(),
});

async function archivedRow(store: Store, archiveId: number, scope: string | null) {
  const row = await store.db.selectFrom('archive_messages').select(['id', 'tenant_id', 'search_text', 'sender', 'subject', 'tags', 'header_message_id', 'message_id', 'sent_at', 'removed_at'])
    .where('id', '=', archiveId).executeTakeFirst();
  if (!row || (scope !== null && row.tenant_id !== scope)) throw notFound('archived message');
  return { ...row, id: Number(row.id), sent_at: Number(row.sent_at) };
}

/** The first of the two people: asks for an archived message to be deleted before its expiry. */
export async function requestDeletion(store: Store, actor: Actor, input: { archiveId: number; reason: string }, scope: string | null, now = Date.now()): Promise<DeletionRequest> {
  if (!actor.userId) throw forbidden('deleting archived mail needs a signed-in user, who another user then approves');
  if (!input.reason.trim()) throw invalid('a deletion needs a reason', [{ field: '/reason', message: 'required' }]);
  const row = await archivedRow(store, input.archiveId, scope);
  if (row.removed_at !== null) throw conflict('the archived message is already removed');
  if ((await heldAmong(store.db, [row])).size) throw conflict('the archived message is under legal hold');
  const id = newId('adel', now);
  await store.transaction(async (trx) => {
    await trx.insertInto('archive_deletions').values({ id, tenant_id: row.tenant_id, archive_id: row.id, reason: input.reason, requested_by: actor.operator, requested_by_user: actor.userId!, requested_at: now, status: 'pending', decided_by: null, decided_at: null }).execute();
    await recordOperation(trx, actor, { operation: 'archive.delete_request', objectType: 'archived_message', objectId: String(row.id), tenantId: row.tenant_id, description: `deletion of archived message ${row.message_id} requested: ${input.reason}`, details: { request: id } }, now);
  });
  return toRequest((await store.db.selectFrom('archive_deletions').selectAll().where('id', '=', id).executeTakeFirstOrThrow()) as Row);
}

/** The second person: approves (the body goes now) or rejects. The requester cannot decide their own request. */
export async function decideDeletion(store: Store, actor: Actor, id: string, approve: boolean, scope: string | null, now = Date.now()): Promise<DeletionRequest> {
  const req = await store.db.selectFrom('archive_deletions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!req || (scope !== null && req.tenant_id !== scope)) throw notFound('deletion request');
  if (req.status !== 'pending') throw conflict(`the deletion request is already ${req.status}`);
  if (!actor.userId || actor.userId === req.requested_by_user) throw forbidden('a deletion is approved by a different user than the one who asked for it');
  const row = await archivedRow(store, Number(req.archive_id), scope);
  if (approve && (await heldAmong(store.db, [row])).size) throw conflict('the archived message is under legal hold');
  await store.transaction(async (trx) => {
    const r = await trx.updateTable('archive_deletions').set({ status: approve ? 'approved' : 'rejected', decided_by: actor.operator, decided_at: now }).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw conflict('the deletion request was decided meanwhile');
    if (approve) await removeBodies(trx, store.engine, [row.id], 'deleted', now);
    await recordOperation(trx, actor, {
      operation: approve ? 'archive.delete_approve' : 'archive.delete_reject', objectType: 'archived_message', objectId: String(row.id), tenantId: row.tenant_id,
      description: `deletion of archived message ${row.message_id} ${approve ? 'approved and carried out' : 'rejected'} (requested by ${req.requested_by})`, details: { request: id },
    }, now);
  });
  return toRequest((await store.db.selectFrom('archive_deletions').selectAll().where('id', '=', id).executeTakeFirstOrThrow()) as Row);
}
