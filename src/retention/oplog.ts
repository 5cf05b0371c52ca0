import { sql } from 'kysely';
import { OPERATION_LOG_ANCHOR_KEY, recordOperation } from '../audit/log.ts';
import type { Actor } from '../audit/log.ts';
import type { Store } from '../store/store.ts';

const SYSTEM: Actor = { operator: 'system:retention', clientIp: 'local', role: 'system' };

/**
 * Prunes operation-log entries older than the cutoff, oldest first, a batch at a time, and
 * anchors the chain: the first entry kept, with the previous-hash it links to, is recorded in
 * `settings` and in a new (chained) entry, so the chain verifies from the anchor on and the
 * pruning itself is in the log. The newest entry is never pruned.
 */
export async function pruneOperationLog(store: Store, cutoff: number, batch: number, now = Date.now()): Promise<number> {
  return store.transaction(async (trx) => {
    const newest = await trx.selectFrom('operation_log').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (!newest) return 0;
    const doomed = await trx.selectFrom('operation_log').select('id').where('at', '<', cutoff).where('id', '<', newest.id).orderBy('id').limit(batch).execute();
    if (!doomed.length) return 0;
    const through = Number(doomed[doomed.length - 1]!.id);
    // Ids below `through` that are newer than the cutoff cannot exist unless clocks went back; the chain is an id prefix either way.
    const r = await sql`delete from operation_log where id <= ${through}`.execute(trx);
    const first = await trx.selectFrom('operation_log').select(['id', 'prev_hash', 'at']).orderBy('id').limit(1).executeTakeFirstOrThrow();
    const anchor = JSON.stringify({ id: Number(first.id), prevHash: first.prev_hash, prunedThrough: through, at: now });
    await trx.insertInto('settings').values({ key: OPERATION_LOG_ANCHOR_KEY, value: anchor }).onConflict((oc) => oc.column('key').doUpdateSet({ value: anchor })).execute();
    const count = Number(r.numAffectedRows ?? 0);
    await recordOperation(trx, SYSTEM, {
      operation: 'retention.operation_log', objectType: 'operation_log', objectId: String(first.id),
      description: `${count} operation-log entries older than ${new Date(cutoff).toISOString()} pruned; the chain is anchored at entry ${Number(first.id)}`,
      details: { pruned: count, through, anchorId: Number(first.id), anchorPrevHash: first.prev_hash },
    }, now);
    return count;
  });
}
