import { sql } from 'kysely';
import type { Executor } from '../store/store.ts';
import { localDate, wallInstant } from './tickets/calendar.ts';

/**
 * Cluster-wide jobs: each node ticks, but a job runs on one node per period. A node claims a
 * due job with a conditional update (free or expired lease, and the same last run it read), so
 * two nodes racing for one period see one winner; the winner records the run and frees the lease.
 */
export async function claimJob(db: Executor, name: string, owner: string, now: number, leaseMs: number, isDue: (lastRunAt: number) => boolean): Promise<boolean> {
  // A new job counts as having run now: the first full inspection waits for its hour.
  await db.insertInto('ops_schedule').values({ name, owner: null, lease_expires_at: null, last_run_at: now }).onConflict((oc) => oc.column('name').doNothing()).execute();
  const row = await db.selectFrom('ops_schedule').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
  const last = row.last_run_at ?? 0;
  if (!isDue(last)) return false;
  if (row.lease_expires_at !== null && row.lease_expires_at > now) return false;
  const r = await db.updateTable('ops_schedule').set({ owner, lease_expires_at: now + leaseMs })
    .where('name', '=', name).where(sql<number>`coalesce(last_run_at, 0)`, '=', last)
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)])).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function finishJob(db: Executor, name: string, owner: string, ranAt: number): Promise<void> {
  await db.updateTable('ops_schedule').set({ owner: null, lease_expires_at: null, last_run_at: ranAt }).where('name', '=', name).where('owner', '=', owner).execute();
}

/** The last daily slot (`HH:MM` in `timeZone`) at or before `now`. */
export function lastDailySlot(now: number, hhmm: string, timeZone: string): number {
  const minutes = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const today = wallInstant(localDate(now, timeZone), minutes, timeZone);
  return today <= now ? today : wallInstant(localDate(now - 86_400_000, timeZone), minutes, timeZone);
}

/**
 * Runs `run` on one node of the cluster when the job is due: the lease protocol above, for
 * other capabilities' periodic work (statistics compaction, webhook dispatch). Returns whether
 * this node ran it; a failure is the caller's to log, and the lease is freed either way.
 */
export async function runClusterJob(db: Executor, job: { name: string; owner: string; leaseMs: number; now: number; isDue: (lastRunAt: number) => boolean }, run: () => Promise<unknown>): Promise<boolean> {
  if (!(await claimJob(db, job.name, job.owner, job.now, job.leaseMs, job.isDue))) return false;
  try {
    await run();
  } finally {
    await finishJob(db, job.name, job.owner, job.now).catch(() => {});
  }
  return true;
}
