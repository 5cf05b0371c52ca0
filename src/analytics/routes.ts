import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { invalid } from '../core/errors.ts';
import type { RouteModule } from '../http/app.ts';
import { scopeOf } from '../http/access.ts';
import { closed } from '../http/schemas.ts';
import { failureStatistics } from './failures.ts';

const Query = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  timezone: Type.Optional(Type.String({ maxLength: 64, description: 'IANA zone for day boundaries; default the platform time zone' })),
}, closed);

export const analyticsRoutes: RouteModule = (app, { store, config }) => {
  app.get<{ Querystring: Static<typeof Query> }>('/stats/failures', { config: { access: { roles: ['administrator', 'auditor', 'support', 'operator'], tenant: 'caller' } },
    schema: { tags: ['statistics'], summary: '投递失败统计: failures per day, tenant and sending domain, by headline reason', querystring: Query },
  }, async (req) => {
    const from = Date.parse(req.query.from);
    const to = Date.parse(req.query.to);
    if (!(to > from)) throw invalid('to must be after from', [{ field: '/querystring/to', message: 'after from' }]);
    const timeZone = req.query.timezone ?? config.timezone;
    try {
      new Intl.DateTimeFormat('en', { timeZone });
    } catch {
      throw invalid(`unknown time zone ${timeZone}`, [{ field: '/querystring/timezone', message: 'IANA time zone' }]);
    }
    return { items: await failureStatistics(store.db, { from, to, tenantId: scopeOf(req) ?? req.query.tenantId ?? null, timeZone }) };
  });
};
