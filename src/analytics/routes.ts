import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import fs from 'node:fs';
import { invalid, notFound } from '../core/errors.ts';
import { actorOf } from '../http/auth.ts';
import { exportFile, getExport, startExport } from './exports.ts';
import { messageTimeline } from './timeline.ts';
import type { RouteModule } from '../http/app.ts';
import { principalOf, scopeOf } from '../http/access.ts';
import type { FastifyRequest } from 'fastify';
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

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
const ExportBody = Type.Object({
  format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]),
  tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  accountId: Type.Optional(Type.String({ maxLength: 64 })),
  recipient: Type.Optional(Type.String({ maxLength: 254 })),
  messageId: Type.Optional(Type.String({ maxLength: 64 })),
  outcome: Type.Optional(Type.Union(['delivered', 'deferred', 'failed', 'expired', 'cancelled'].map((o) => Type.Literal(o)))),
  reason: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z_]+$' })),
  clientIp: Type.Optional(Type.String({ maxLength: 64 })),
  sourceIp: Type.Optional(Type.String({ maxLength: 64 })),
  recipientDomain: Type.Optional(Type.String({ maxLength: 253 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
}, closed);

export const analyticsRoutes: RouteModule = (app, { store, config }) => {
  const access = { roles: READERS, tenant: 'caller' as const };
  const parse = (req: FastifyRequest<{ Querystring: Q }>, fallback: Dimension[]): StatsQuery => {
    const q = req.query;
    const p = principalOf(req);
    const timeZone = checkTimeZone(q.timezone ?? config.timezone);
    const now = Date.now();
    const range = rangeFromQuery(q, now, timeZone);
    if (range.from < addDays(localDate(now, timeZone), -DAILY_RETENTION_DAYS)) {
      throw invalid(`statistics are kept ${DAILY_RETENTION_DAYS} days; ${range.from} is older`, [{ field: '/querystring/from', message: `within the last ${DAILY_RETENTION_DAYS} days` }]);
    }
    // Operators and API keys see their own tenant (and an API key its own account) whatever they ask for.
    return {
      range, timeZone, groupBy: parseGroupBy(q.groupBy, fallback), platformTimeZone: config.timezone, now,
      tenantId: scopeOf(req) ?? q.tenantId ?? null, accountId: p.kind === 'apikey' ? p.accountId : q.accountId ?? null,
    };
  };
  app.get<{ Querystring: Q }>('/stats/sends', { config: { access },
    schema: { tags: ['statistics'], summary: '群发统计: submitted, delivered, deferred, failed, bounced, complained and suppressed per period and dimensions (format=json|csv|xlsx)', querystring: Query },
  }, async (req) => sendStatistics(store.db, parse(req, ['date'])));
  app.get<{ Querystring: Q }>('/stats/failures', { config: { access },
    schema: { tags: ['statistics'], summary: '投递失败统计: failures by the three headline reasons and by fine reason (format=json|csv|xlsx)', querystring: Query },
  }, async (req) => failureStatistics(store.db, parse(req, ['date'])));

  const scope = (req: FastifyRequest) => {
    const p = principalOf(req);
    return { tenantId: scopeOf(req), accountId: p.kind === 'apikey' ? p.accountId : null };
  };
  app.get<{ Params: Static<typeof IdParams> }>('/delivery/messages/:id/timeline', { config: { access },
    schema: { tags: ['delivery'], summary: 'One message from submission to the last event: every attempt with the remote reply, bounces, complaints, opens, clicks, unsubscribes', params: IdParams },
  }, async (req) => messageTimeline(store.db, req.params.id, scope(req)));

  app.post<{ Body: Static<typeof ExportBody> }>('/delivery/exports', { config: { access },
    schema: { tags: ['delivery'], summary: 'Export the delivery log (any size) as a background job: poll its progress, then download the file', body: ExportBody },
  }, async (req, reply) => {
    const b = req.body;
    const from = b.from ? Date.parse(b.from) : undefined;
    const to = b.to ? Date.parse(b.to) : undefined;
    if (from !== undefined && to !== undefined && from >= to) throw invalid('from must be before to', [{ field: '/body/from', message: 'before to' }]);
    const s = scope(req);
    const job = await startExport(store, actorOf(req), config.dataDir, {
      tenantId: s.tenantId ?? b.tenantId ?? null, accountId: s.accountId ?? b.accountId, recipient: b.recipient?.toLowerCase(), messageId: b.messageId, outcome: b.outcome,
      reason: b.reason, clientIp: b.clientIp, sourceIp: b.sourceIp, recipientDomain: b.recipientDomain?.toLowerCase(), from, to,
    }, b.format);
    return reply.code(202).send(job);
  });
  app.get<{ Params: Static<typeof IdParams> }>('/delivery/exports/:id', { config: { access }, schema: { tags: ['delivery'], summary: 'An export job: status, rows written, progress', params: IdParams } },
    async (req) => getExport(store, req.params.id, scope(req)));
  app.get<{ Params: Static<typeof IdParams> }>('/delivery/exports/:id/download', { config: { access }, schema: { tags: ['delivery'], summary: 'The finished export file, streamed', params: IdParams } }, async (req, reply) => {
    const job = await getExport(store, req.params.id, scope(req));
    if (job.status !== 'done') throw notFound('finished export');
    const file = exportFile(config.dataDir, job.id, job.format);
    reply.header('content-type', job.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    reply.header('content-disposition', `attachment; filename="delivery-log-${job.id}.${job.format}"`);
    reply.header('content-length', String(fs.statSync(file).size));
    return reply.send(fs.createReadStream(file));
  });
};
