import type { Logger } from 'pino';
import type { FanoutConfig } from '../config/schema.ts';
import { runJobOnce } from '../cluster/index.ts';
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
  // Once per cluster under the job's lease; a store that is away or a failing run is logged by
  // runJobOnce and tried again at the next tick.
  const run = async (force: boolean): Promise<void> => {
    await runJobOnce(store.db, options.nodeId, {
      name: 'archive.ingest', leaseMs: 5 * 60_000, isDue: (last, at) => force || at - last >= everyMs,
      run: async () => {
        // A time budget per run, so a backlog is worked off in steps and the lease never outlives the work.
        const deadline = now() + 30_000;
        while (!stopped && now() < deadline && (await archivePending(store, config.archive, { now, limit: config.archive.batchSize })) > 0) { /* next batch */ }
        await sealDigests(store.db, now());
      },
    }, now(), options.log);
  };
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = run(false).finally(() => {
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
