/** The audit capability's surface: what the other capabilities may use. */
export { OPERATION_LOG_ANCHOR_KEY, recordOperation, verifyOperationLog } from './log.ts';
export type { Actor } from './log.ts';
export { listOperations } from './queries.ts';
