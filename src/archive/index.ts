import type { Logger } from 'pino';
import type { FanoutConfig } from '../config/schema.ts';
import { claimJob, finishJob } from '../cluster/index.ts';
import type { Store } from '../store/store.ts';
import { archivePending } from './archiver.ts';
import { ArchiveCapture } from './capture.ts';
import { sealDigests } from './integrity.ts';

export { archivePending } from './archiver.ts';
export { ArchiveCapture } from './capture.ts';
export { sealDigests, verifyArchive } from './integrity.ts';
export type { ArchiveVerification, ArchiveProblem } from './integrity.ts';
export { searchArchive } from './search.ts';
export type { ArchiveFilter, ArchiveItem } from './search.ts';
export { createHold, releaseHold, listHolds, expireArchived } from './holds.ts';
export { requestDeletion, decideDeletion } from './deletion.ts';
export { archiveRoutes } from './routes.ts';
export { ArchiveConfigSchema } from './config.ts';
export type { ArchiveTables } from './tables.ts';

export interface ArchiveComponent {
  name: string;
  /** Feeds the sender: every signed message is captured for the archive. */
  capture: ArchiveCapture;
  /** Archives what is pending and seals finished days now (tests). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The archive on a node: the capture the sender writes to, and the archiver, which one node of
 * the cluster runs at a time (a lease in the operations schedule), turning captured messages
 * into archived ones and sealing each finished day's digest.
 */
export function startArchive(store: Store, config: FanoutConfig, options: { nodeId: string; log?: Logger; now?: () => number }): ArchiveComponent {
  const now = options.now ?? Date.now;
  const everyMs = config.archive.everySeconds * 1000;
  const capture = new ArchiveCapture(store, (err) => options.log?.error({ err }, 'archive capture could not be written'));
  let running: Promise<void> | null = null;
  let stopped = false;
  const run = async (force: boolean) => {
    const at = now();
    if (!(await claimJob(store.db, 'archive.ingest', options.nodeId, at, 5 * 60_000, (last) => force || at - last >= everyMs))) return;
    try {
      // A time budget per run, so a backlog is worked off in steps and the lease never outlives the work.
      const deadline = now() + 30_000;
      while (!stopped && now() < deadline && (await archivePending(store, config.archive, { now, limit: config.archive.batchSize })) > 0) { /* next batch */ }
      await sealDigests(store.db, now());
    } catch (err) {
      options.log?.error({ err }, 'archiving failed');
    } finally {
      await finishJob(store.db, 'archive.ingest', options.nodeId, at).catch(() => {});
    }
  };
  const timer = setInterval(() => {
    if (running || stopped) return;
    // The job's lease lives in the store: while the store is away the claim fails, and the
    // next tick tries again; a failed claim must never end the process.
    running = run(false).catch((err: unknown) => {
      options.log?.warn({ err, job: 'archive.ingest' }, 'could not claim a scheduled job; the store may be away');
    }).finally(() => {
      running = null;
    });
  }, Math.max(50, Math.min(everyMs, 5000)));
  timer.unref();
  return {
    name: 'archive',
    capture,
    async tick() {
      await capture.flushed();
      await running;
      await run(true);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await capture.flushed();
      await running;
    },
  };
}
