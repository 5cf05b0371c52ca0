import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { RouteModule } from '../http/app.ts';
import { principalOf, scopeOf } from '../http/access.ts';
import { actorOf } from '../http/auth.ts';
import { closed } from '../http/schemas.ts';
import { cancelBulk, listPauses, pauseBulk, resumeBulk } from './queue/control.ts';
import { OUTCOMES, queryDeliveryEvents, queueDepth } from './queue/events.ts';

const EventsQuery = Type.Object({
  tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  accountId: Type.Optional(Type.String({ maxLength: 64 })),
  recipient: Type.Optional(Type.String({ maxLength: 254 })),
  messageId: Type.Optional(Type.String({ maxLength: 64 })),
  outcome: Type.Optional(Type.Union(OUTCOMES.map((o) => Type.Literal(o)))),
  reason: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z_]+$' })),
  clientIp: Type.Optional(Type.String({ maxLength: 64 })),
  sourceIp: Type.Optional(Type.String({ maxLength: 64 })),
  recipientDomain: Type.Optional(Type.String({ maxLength: 253 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  cursor: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
}, closed);
const ScopeBody = Type.Object({
  scope: Type.Union([Type.Literal('account'), Type.Literal('site')], { description: 'an account id, or an MX site' }),
  target: Type.String({ minLength: 1, maxLength: 300 }),
}, closed);

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export const deliveryRoutes: RouteModule = (app, { store }) => {
  app.get<{ Querystring: Static<typeof EventsQuery> }>('/delivery/events', { config: { access: { roles: ['administrator', 'auditor', 'support', 'operator', 'account'], tenant: 'caller' } },
    schema: { tags: ['delivery'], summary: 'The delivery log (投递日志): every attempt and decision, newest first (keyset: pass nextCursor as cursor), by recipient, message, outcome, reason, tenant, account, client IP, source IP, recipient domain and time (format=json|csv|xlsx)', querystring: EventsQuery },
  }, async (req) => {
    const p = principalOf(req);
    const q = req.query;
    const scope = scopeOf(req);
    const page = await queryDeliveryEvents(store.db, {
      tenantId: scope ?? q.tenantId ?? null, accountId: p.kind === 'apikey' ? p.accountId : q.accountId, recipient: q.recipient?.toLowerCase(),
      messageId: q.messageId, outcome: q.outcome, reason: q.reason, clientIp: q.clientIp, sourceIp: q.sourceIp, recipientDomain: q.recipientDomain?.toLowerCase(), from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined, cursor: q.cursor, limit: q.limit,
    });
    return { items: page.events.map((e) => ({ ...e, at: iso(e.at) })), nextCursor: page.nextCursor };
  });
  app.get('/delivery/queue', { config: { access: { roles: ['administrator', 'auditor', 'support'] } }, schema: { tags: ['delivery'], summary: 'Queue depth and oldest queued message per lane; paused accounts and sites' } }, async () => {
    const depth = await queueDepth(store.db);
    const pauses = await listPauses(store);
    return { lanes: depth.map((d) => ({ ...d, oldestQueuedAt: iso(d.oldestQueuedAt) })), pauses: pauses.map((p) => ({ ...p, createdAt: iso(p.createdAt) })) };
  });
  app.post<{ Body: Static<typeof ScopeBody> }>('/delivery/pause', { config: { access: { roles: ['administrator', 'operator'], tenant: 'caller' } }, schema: { tags: ['delivery'], summary: 'Hold back bulk mail of an account or site (transactional mail keeps flowing)', body: ScopeBody } }, async (req, reply) => {
    await pauseBulk(store, actorOf(req), req.body.scope, req.body.target);
    return reply.code(204).send();
  });
  app.post<{ Body: Static<typeof ScopeBody> }>('/delivery/resume', { config: { access: { roles: ['administrator', 'operator'], tenant: 'caller' } }, schema: { tags: ['delivery'], summary: 'Resume bulk mail of an account or site', body: ScopeBody } }, async (req, reply) => {
    await resumeBulk(store, actorOf(req), req.body.scope, req.body.target);
    return reply.code(204).send();
  });
  app.post<{ Body: Static<typeof ScopeBody> }>('/delivery/cancel', { config: { access: { roles: ['administrator', 'operator'], tenant: 'caller' } }, schema: { tags: ['delivery'], summary: 'Cancel queued bulk mail of an account or site', body: ScopeBody } }, async (req) => {
    return { cancelled: await cancelBulk(store, actorOf(req), req.body.scope, req.body.target) };
  });
};
