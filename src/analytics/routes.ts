import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { invalid } from '../core/errors.ts';
import type { RouteModule } from '../http/app.ts';
import { requireRole, tenantScope } from '../http/auth.ts';
import { closed } from '../http/schemas.ts';
import { DAILY_RETENTION_DAYS } from './compaction.ts';
import { addDays, checkTimeZone, localDate, rangeFromQuery } from './periods.ts';
import { failureStatistics, parseGroupBy, sendStatistics } from './statistics.ts';
import type { Dimension, StatsQuery } from './statistics.ts';


const Query = Type.Object({
  period: Type.Optional(Type.String({ maxLength: 32, description: 'today | yesterday | this_week | last_week | this_month | last_month' })),
  from: Type.Optional(Type.String({ maxLength: 10, description: 'first day, YYYY-MM-DD (inclusive)' })),
  to: Type.Optional(Type.String({ maxLength: 10, description: 'last day, YYYY-MM-DD (inclusive)' })),
  groupBy: Type.Optional(Type.String({ maxLength: 200, description: 'comma-separated: date, hour, tenant, account, clientIp, sourceIp, senderDomain, recipientDomain' })),
  timezone: Type.Optional(Type.String({ maxLength: 64, description: 'IANA zone for days and weeks (weeks start Monday); default the platform time zone' })),
  tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  accountId: Type.Optional(Type.String({ maxLength: 64 })),
}, closed);
type Q = Static<typeof Query>;

const READERS = ['administrator', 'auditor', 'support', 'operator', 'account'] as const;

export const analyticsRoutes: RouteModule = (app, { store, config }) => {
  const parse = (req: { query: Q; principal: unknown }, p: ReturnType<typeof requireRole>, fallback: Dimension[]): StatsQuery => {
    const q = req.query;
    const timeZone = checkTimeZone(q.timezone ?? config.timezone);
    const now = Date.now();
    const range = rangeFromQuery(q, now, timeZone);
    if (range.from < addDays(localDate(now, timeZone), -DAILY_RETENTION_DAYS)) {
      throw invalid(`statistics are kept ${DAILY_RETENTION_DAYS} days; ${range.from} is older`, [{ field: '/querystring/from', message: `within the last ${DAILY_RETENTION_DAYS} days` }]);
    }
    // Operators and API keys see their own tenant (and an API key its own account) whatever they ask for.
    return {
      range, timeZone, groupBy: parseGroupBy(q.groupBy, fallback), platformTimeZone: config.timezone, now,
      tenantId: tenantScope(p) ?? q.tenantId ?? null, accountId: p.kind === 'apikey' ? p.accountId : q.accountId ?? null,
    };
  };
  app.get<{ Querystring: Q }>('/stats/sends', {
    schema: { tags: ['statistics'], summary: '群发统计: submitted, delivered, deferred, failed, bounced, complained and suppressed per period and dimensions (format=json|csv|xlsx)', querystring: Query },
  }, async (req) => sendStatistics(store.db, parse(req, requireRole(req, READERS), ['date'])));
  app.get<{ Querystring: Q }>('/stats/failures', {
    schema: { tags: ['statistics'], summary: '投递失败统计: failures by the three headline reasons and by fine reason (format=json|csv|xlsx)', querystring: Query },
  }, async (req) => failureStatistics(store.db, parse(req, requireRole(req, READERS), ['date'])));
};
