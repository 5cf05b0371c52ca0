/**
 * Sending statistics (群发统计, 投递失败统计) and the exports of lists. Other capabilities reach
 * it only through this file: writers of delivery events call `addToRollups` in the transaction
 * that writes the events, so the counters never drift from the log.
 */
export { addToRollups, messageOrigins, rollupOutcome } from './rollups.ts';
export type { RollupEvent, RollupOutcome } from './rollups.ts';
export { analyticsRoutes } from './routes.ts';
export { startAnalytics } from './component.ts';
export { compactRollups } from './compaction.ts';
export { firstHourlyDay, HOURLY_RETENTION_DAYS, DAILY_RETENTION_DAYS } from './compaction.ts';
export { startOfDay, localDate } from './periods.ts';
