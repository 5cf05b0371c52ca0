import { api, ApiError, isMissingEndpoint } from './client';
import type { Query } from './client';

/** The statistics contract of PRODUCT.md (GET /api/v1/stats/sends and /stats/failures). */
export const PERIODS = ['today', 'yesterday', 'this_week', 'last_week', 'this_month', 'last_month'] as const;
export type Period = (typeof PERIODS)[number];
export const SEND_COUNTS = ['submitted', 'delivered', 'deferred', 'failed', 'bounced', 'complained', 'suppressed'] as const;
export type SendCounts = Record<(typeof SEND_COUNTS)[number], number>;
export const FAILURE_COUNTS = ['userUnknown', 'mailboxFull', 'rejected', 'other'] as const;
export type FailureCounts = Record<(typeof FAILURE_COUNTS)[number], number> & { total?: number; reasons?: Record<string, number> };
export const DIMENSIONS = ['date', 'hour', 'tenant', 'account', 'clientIp', 'sourceIp', 'senderDomain', 'recipientDomain'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface StatsAnswer<C> {
  from: string;
  to: string;
  timezone: string;
  total: C;
  items: (Partial<Record<Dimension | 'tenantName' | 'tenantId' | 'accountName' | 'accountId', string>> & C)[];
}

export const failureTotal = (c: Partial<FailureCounts>): number => c.total ?? (c.userUnknown ?? 0) + (c.mailboxFull ?? 0) + (c.rejected ?? 0) + (c.other ?? 0);

export function statsQuery(q: { period?: string; from?: string; to?: string; groupBy?: string[]; timezone: string; tenantId?: string; format?: 'csv' | 'xlsx' }): Query {
  return { period: q.from ? undefined : q.period, from: q.from, to: q.to, groupBy: q.groupBy?.join(','), timezone: q.timezone, tenantId: q.tenantId, format: q.format };
}

export const getSends = (q: Query) => api.get<StatsAnswer<SendCounts>>('/stats/sends', q);
export const getFailures = (q: Query) => api.get<StatsAnswer<FailureCounts>>('/stats/failures', q);

/**
 * True when the server has no statistics API of the PRODUCT.md shape: the route is missing, or
 * an older route answers that it does not know `period`/`groupBy`.
 */
export const statsUnavailable = (err: unknown) => isMissingEndpoint(err) || (err instanceof ApiError && err.status === 400 && /period|groupBy|format|is not a known field|from|to/.test(err.problem.detail));
