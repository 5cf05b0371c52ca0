import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { expireArchived } from '../archive/index.ts';
import type { FanoutConfig } from '../config/schema.ts';
import { runJobOnce } from '../cluster/index.ts';
import type { Store } from '../store/store.ts';
import type { RetentionConfig } from './config.ts';
import { pruneOperationLog } from './oplog.ts';
import { BodyPruner, deleteFinishedMessages, deleteUnreferencedParts, pruneOlderThan } from './prune.ts';

export { RetentionConfigSchema } from './config.ts';
export type { RetentionConfig } from './config.ts';

/** A table another capability asks retention to prune (the webhook capability's delivery history). */
export interface RetentionTarget {
  /** Which retention setting applies. */
  setting: 'webhookHistoryDays' | 'trackingEventsDays' | 'deliveryEventsDays' | 'bounceRawDays';
  table: string;
  timeColumn: string;
  idColumn?: string;
}

const targets: RetentionTarget[] = [];

/** Registers a table for pruning; returns the function that removes it again. */
export function registerRetentionTarget(target: RetentionTarget): () => void {
  targets.push(target);
  return () => {
    const i = targets.indexOf(target);
    if (i >= 0) targets.splice(i, 1);
  };
}

export interface RetentionReport {
  deliveryEvents: number;
  deliveryMessages: number;
  deliveryBodies: number;
  deliveryParts: number;
  bounceRaw: number;
  trackingEvents: number;
  operationLog: number;
  archivedBodies: number;
  archiveHeld: number;
  other: Record<string, number>;
  /** Stopped at the time budget; the next run goes on. */
  incomplete: boolean;
}

const DAY = 86_400_000;

/**
 * One prune pass over everything with a retention setting, in batches with a pause between
 * them. Statistics rollups are not touched: they are kept for as long as statistics are shown.
 */
export async function runRetention(store: Store, c: RetentionConfig, options: { now?: number; stopped?: () => boolean } = {}): Promise<RetentionReport> {
  const now = options.now ?? Date.now();
  const deadline = Date.now() + c.maxRunSeconds * 1000;
  const report: RetentionReport = { deliveryEvents: 0, deliveryMessages: 0, deliveryBodies: 0, deliveryParts: 0, bounceRaw: 0, trackingEvents: 0, operationLog: 0, archivedBodies: 0, archiveHeld: 0, other: {}, incomplete: false };
  const pause = () => (c.pauseMs > 0 ? sleep(c.pauseMs) : Promise.resolve());
  const out = () => {
    if (Date.now() > deadline || options.stopped?.()) {
      report.incomplete = true;
      return true;
    }
    return false;
  };
  /** Runs one step batch after batch until it has nothing left (or time is up). */
  const drain = async (step: () => Promise<number>, add: (n: number) => void) => {
    while (!out()) {
      const n = await step();
      add(n);
      if (n === 0) return;
      await pause();
    }
  };
  const cutoff = (days: number) => now - days * DAY;

  if (c.deliveryBodiesHours > 0) {
    // At least an hour: a message's capture for the archive is written within moments of signing.
    const bodiesCutoff = now - Math.max(c.deliveryBodiesHours, 1) * 3_600_000;
    const bodies = new BodyPruner(store, bodiesCutoff, c.batchSize);
    while (!out()) {
      const n = await bodies.step();
      if (n === null) break;
      report.deliveryBodies += n;
      if (n > 0) await pause();
    }
    if (!out()) report.deliveryParts += await deleteUnreferencedParts(store, bodiesCutoff, c.batchSize, pause);
  }
  if (c.deliveryEventsDays > 0) {
    await drain(() => pruneOlderThan(store.db, 'delivery_events', 'at', cutoff(c.deliveryEventsDays), c.batchSize), (n) => (report.deliveryEvents += n));
    await drain(() => deleteFinishedMessages(store, cutoff(c.deliveryEventsDays), c.batchSize), (n) => (report.deliveryMessages += n));
  }
  if (c.bounceRawDays > 0) {
    await drain(() => pruneOlderThan(store.db, 'inbound_messages', 'received_at', cutoff(c.bounceRawDays), c.batchSize), (n) => (report.bounceRaw += n));
  }
  if (c.trackingEventsDays > 0) {
    await drain(() => pruneOlderThan(store.db, 'tracking_events', 'at', cutoff(c.trackingEventsDays), c.batchSize), (n) => (report.trackingEvents += n));
  }
  for (const t of targets) {
    const days = c[t.setting];
    if (days <= 0) continue;
    await drain(() => pruneOlderThan(store.db, t.table, t.timeColumn, cutoff(days), c.batchSize, t.idColumn), (n) => (report.other[t.table] = (report.other[t.table] ?? 0) + n));
  }
  // Archived bodies: each row carries the expiry its tenant's policy gave it; legal holds keep theirs.
  let afterId = 0;
  while (!out()) {
    const r = await expireArchived(store, { now, batchSize: c.batchSize, afterId });
    report.archivedBodies += r.removed;
    report.archiveHeld += r.held;
    if (r.lastId < 0) break;
    afterId = r.lastId;
    await pause();
  }
  if (c.operationLogDays > 0) {
    await drain(() => pruneOperationLog(store, cutoff(c.operationLogDays), c.batchSize, now), (n) => (report.operationLog += n));
  }
  return report;
}

export interface RetentionComponent {
  name: string;
  stop(): Promise<void>;
  /** Runs a pass now if none is running on any node (tests). */
  tick(): Promise<RetentionReport | null>;
}

/** The retention job on a node: once per cluster per period, under a lease in the operations schedule. */
export function startRetention(store: Store, config: FanoutConfig, options: { nodeId: string; log?: Logger }): RetentionComponent {
  const c = config.retention;
  let stopped = false;
  let running: Promise<RetentionReport | null> | null = null;
  // Once per cluster under the job's lease; a store that is away or a failing pass is logged by
  // runJobOnce and tried again at the next tick.
  const run = async (force: boolean): Promise<RetentionReport | null> => {
    let report: RetentionReport | null = null;
    await runJobOnce(store.db, options.nodeId, {
      name: 'retention.prune', leaseMs: (c.maxRunSeconds + 60) * 1000, isDue: (last, at) => force || at - last >= c.everyMinutes * 60_000,
      run: async () => {
        report = await runRetention(store, c, { stopped: () => stopped });
        options.log?.info({ retention: report }, 'retention pass finished');
      },
    }, Date.now(), options.log);
    return report;
  };
  const timer = setInterval(() => {
    if (running || stopped || !c.enabled) return;
    running = run(false).finally(() => {
      running = null;
    });
  }, Math.min(60_000, Math.max(1000, c.everyMinutes * 60_000)));
  timer.unref();
  return {
    name: 'retention',
    async tick() {
      await running;
      return run(true);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
