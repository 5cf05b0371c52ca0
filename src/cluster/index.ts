/**
 * The cluster capability: state the nodes of one store share, so limits and schedules hold
 * for the cluster and not per node. Other capabilities reach it only through this file.
 */
export { claimJob, finishJob, runJobOnce } from './jobs.ts';
export type { ClusterJob, JobLog } from './jobs.ts';
export { SharedLimits } from './limits.ts';
export { SharedWindowLimiter, StoreCounters } from './counters.ts';
export type { Count } from './counters.ts';
export type { BackoffState, ClusterLimits, SharedLimitsOptions } from './limits.ts';
export type { ClusterTables } from './tables.ts';
