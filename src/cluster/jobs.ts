import { sql } from 'kysely';
import type { Executor } from '../store/store.ts';

/**
 * Jobs run once per cluster: every node ticks, but a job runs on one node per period. A node
 * claims a due job with a conditional update (free or expired lease, and the same last run it
 * read), so two nodes racing for one period see one winner; the winner records the run and
 * frees the lease. A node that dies mid-run leaves its lease to expire, and another runs the job.
 */
export async function claimJob(db: Executor, name: string, owner: string, now: number, leaseMs: number, isDue: (lastRunAt: number) => boolean): Promise<boolean> {
  // A new job counts as having run now: the first run waits for its period.
  await db.insertInto('cluster_jobs').values({ name, owner: null, lease_expires_at: null, last_run_at: now }).onConflict((oc) => oc.column('name').doNothing()).execute();
  const row = await db.selectFrom('cluster_jobs').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
  const last = row.last_run_at ?? 0;
  if (!isDue(last)) return false;
  if (row.lease_expires_at !== null && row.lease_expires_at > now) return false;
  const r = await db.updateTable('cluster_jobs').set({ owner, lease_expires_at: now + leaseMs })
    .where('name', '=', name).where(sql<number>`coalesce(last_run_at, 0)`, '=', last)
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)])).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function finishJob(db: Executor, name: string, owner: string, ranAt: number): Promise<void> {
  await db.updateTable('cluster_jobs').set({ owner: null, lease_expires_at: null, last_run_at: ranAt }).where('name', '=', name).where('owner', '=', owner).execute();
}

export interface ClusterJob {
  name: string;
  /** Longer than a run can take: a node that dies mid-run holds the job this long. */
  leaseMs: number;
  isDue(lastRunAt: number, now: number): boolean;
  run(): Promise<unknown>;
}

export interface JobLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Runs `job` here if it is due and no other node has it. Never throws: a store that is away
 * (restart, fail-over) or a failing job is logged, and the next tick tries again.
 */
export async function runJobOnce(db: Executor, owner: string, job: ClusterJob, now: number, log?: JobLog): Promise<'ran' | 'skipped' | 'failed'> {
  let claimed: boolean;
  try {
    claimed = await claimJob(db, job.name, owner, now, job.leaseMs, (last) => job.isDue(last, now));
  } catch (err) {
    log?.warn({ err, job: job.name }, 'could not claim a scheduled job; the store may be away');
    return 'failed';
  }
  if (!claimed) return 'skipped';
  let ok = true;
  try {
    await job.run();
  } catch (err) {
    ok = false;
    log?.error({ err, job: job.name }, 'scheduled job failed');
  } finally {
    await finishJob(db, job.name, owner, now).catch(() => {});
  }
  return ok ? 'ran' : 'failed';
}
