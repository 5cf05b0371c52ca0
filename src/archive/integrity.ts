import { createHash } from 'node:crypto';
import type { Executor } from '../store/store.ts';
import { sha256Hex, utcDay } from './archiver.ts';

export const GENESIS_DIGEST = '0'.repeat(64);

/** The day's root: SHA-256 over its rows' `id:sha256` lines in id order, tombstones included. */
async function dayRoot(db: Executor, day: string): Promise<{ count: number; root: string }> {
  const h = createHash('sha256');
  let count = 0;
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('archive_messages').select(['id', 'sha256']).where('day', '=', day).where('id', '>', after).orderBy('id').limit(5000).execute();
    if (!rows.length) break;
    for (const r of rows) h.update(`${Number(r.id)}:${r.sha256}\n`);
    count += rows.length;
    after = Number(rows[rows.length - 1]!.id);
  }
  return { count, root: h.digest('hex') };
}

export const digestOf = (prev: string, day: string, count: number, root: string) => createHash('sha256').update(`${prev}|${day}|${count}|${root}`).digest('hex');

/**
 * Seals every finished UTC day that has archived rows and no digest yet, in day order, each
 * linked to the digest before it. A day is sealed an hour after it ends, so a batch archived
 * in its last moments has committed.
 */
export async function sealDigests(db: Executor, now = Date.now()): Promise<number> {
  const last = await db.selectFrom('archive_digests').select(['day', 'digest']).orderBy('day', 'desc').limit(1).executeTakeFirst();
  const before = utcDay(now - 3_600_000);
  let q = db.selectFrom('archive_messages').select('day').distinct().where('day', '<', before);
  if (last) q = q.where('day', '>', last.day);
  const days = (await q.orderBy('day').execute()).map((r) => r.day);
  let prev = last?.digest ?? GENESIS_DIGEST;
  for (const day of days) {
    const { count, root } = await dayRoot(db, day);
    const digest = digestOf(prev, day, count, root);
    await db.insertInto('archive_digests').values({ day, count, root, prev_digest: prev, digest, created_at: now }).execute();
    prev = digest;
  }
  return days.length;
}

export interface ArchiveProblem {
  kind: 'body_altered' | 'digest_mismatch' | 'chain_broken' | 'removed_outside_retention' | 'day_missing';
  day?: string;
  archiveId?: number;
  detail: string;
}

export interface ArchiveVerification {
  ok: boolean;
  daysChecked: number;
  messagesChecked: number;
  problems: ArchiveProblem[];
}

/**
 * What an auditor runs: every kept body still hashes to its recorded SHA-256; every sealed day
 * still yields its digest and the digests link up (a row removed, added or re-hashed breaks its
 * day); every removed body went by retention (expired) or by an approved two-person deletion.
 */
export async function verifyArchive(db: Executor, options: { tenantId?: string | null } = {}): Promise<ArchiveVerification> {
  const problems: ArchiveProblem[] = [];
  let messagesChecked = 0;
  let after = 0;
  for (;;) {
    let q = db.selectFrom('archive_messages').select(['id', 'tenant_id', 'day', 'sha256', 'body', 'expires_at', 'removed_at', 'removed_reason']).where('id', '>', after);
    if (options.tenantId) q = q.where('tenant_id', '=', options.tenantId);
    const rows = await q.orderBy('id').limit(500).execute();
    if (!rows.length) break;
    const removedIds = rows.filter((r) => r.removed_at !== null && r.removed_reason === 'deleted').map((r) => Number(r.id));
    const approved = new Set<number>();
    if (removedIds.length) {
      for (const d of await db.selectFrom('archive_deletions').select('archive_id').where('archive_id', 'in', removedIds).where('status', '=', 'approved').execute()) approved.add(Number(d.archive_id));
    }
    for (const r of rows) {
      const id = Number(r.id);
      messagesChecked++;
      if (r.body !== null) {
        const body = Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
        if (sha256Hex(body) !== r.sha256) problems.push({ kind: 'body_altered', day: r.day, archiveId: id, detail: 'the stored message no longer matches the SHA-256 recorded when it was archived' });
      } else {
        const lawful = (r.removed_reason === 'expired' && r.removed_at !== null && Number(r.expires_at) <= Number(r.removed_at)) || (r.removed_reason === 'deleted' && approved.has(id));
        if (!lawful) problems.push({ kind: 'removed_outside_retention', day: r.day, archiveId: id, detail: `body removed (${r.removed_reason ?? 'no reason'}) before its expiry without an approved deletion` });
      }
    }
    after = Number(rows[rows.length - 1]!.id);
  }
  const digests = await db.selectFrom('archive_digests').selectAll().orderBy('day').execute();
  let prev = GENESIS_DIGEST;
  for (const d of digests) {
    if (d.prev_digest !== prev) problems.push({ kind: 'chain_broken', day: d.day, detail: 'the digest does not link to the day before it (a day was removed or reordered)' });
    const { count, root } = await dayRoot(db, d.day);
    if (count !== Number(d.count) || root !== d.root || digestOf(d.prev_digest, d.day, count, root) !== d.digest) {
      problems.push({ kind: 'digest_mismatch', day: d.day, detail: `the day's rows (${count}, sealed with ${Number(d.count)}) no longer yield its digest: a row was removed, added or its hash changed` });
    }
    prev = d.digest;
  }
  return { ok: problems.length === 0, daysChecked: digests.length, messagesChecked, problems };
}
