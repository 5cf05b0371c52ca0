import type { Logger } from 'pino';
import type { FanoutConfig } from '../config/schema.ts';
import { runJobOnce } from '../cluster/index.ts';
import type { Store } from '../store/store.ts';
import { compactRollups } from './compaction.ts';
import { localDate } from './periods.ts';

const TICK_MS = 60_000;

/**
 * The statistics' daily upkeep on every node; one node of the cluster runs it each day (a lease
 * in the store): finished days folded into stats_daily, old hours and days pruned.
 */
export function startAnalytics(store: Store, config: FanoutConfig, options: { nodeId: string; log?: Logger }): { name: string; stop(): Promise<void>; tick(): Promise<void> } {
  let running: Promise<void> | null = null;
  const tick = async () => {
    const now = Date.now();
    await runJobOnce(store.db, options.nodeId, {
      name: 'stats.compact', leaseMs: 30 * 60_000, isDue: (last) => localDate(last, config.timezone) !== localDate(now, config.timezone),
      run: async () => {
        const r = await compactRollups(store, config.timezone, now);
        options.log?.info({ days: r.days.length, prunedHours: r.prunedHours, prunedDays: r.prunedDays }, 'statistics compacted');
      },
    }, now, options.log);
  };
  const timer = setInterval(() => {
    running ??= tick().finally(() => {
      running = null;
    });
  }, TICK_MS);
  timer.unref();
  return {
    name: 'analytics',
    tick,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
