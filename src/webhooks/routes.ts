import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { invalid } from '../core/errors.ts';
import type { RouteModule } from '../http/app.ts';
import { actorOf } from '../http/auth.ts';
import { scopeOf } from '../http/access.ts';
import { closed } from '../http/schemas.ts';
import { WEBHOOK_EVENT_TYPES } from './events.ts';
import { NetworkPolicy } from './network.ts';
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, replayWebhook, rotateSecret, updateWebhook, webhookDeliveries } from './service.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
const Events = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50, description: WEBHOOK_EVENT_TYPES.join(', ') });
const CreateBody = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2000 }),
  events: Events,
  description: Type.Optional(Type.String({ maxLength: 500 })),
  tenantId: Type.Optional(Type.String({ maxLength: 64, description: 'for platform administrators; others create for their own tenant' })),
}, closed);
const UpdateBody = Type.Object({
  url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  events: Type.Optional(Events),
  description: Type.Optional(Type.String({ maxLength: 500 })),
  enabled: Type.Optional(Type.Boolean()),
}, closed);
const RotateBody = Type.Object({ overlapHours: Type.Optional(Type.Number({ minimum: 0, maximum: 720 })) }, closed);
const ReplayBody = Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }, closed);
const ListQuery = Type.Object({ tenantId: Type.Optional(Type.String({ maxLength: 64 })) }, closed);
const DeliveriesQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])),
  cursor: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
}, closed);

const WRITE = { access: { roles: ['administrator', 'operator', 'account'] as const, tenant: 'caller' as const } };
const READ = { access: { roles: ['administrator', 'operator', 'account', 'auditor', 'support'] as const, tenant: 'caller' as const } };

/** Webhook endpoints of business systems: Standard Webhooks, signed, retried, replayable. */
export const webhookRoutes: RouteModule = (app, { store, config }) => {
  const policy = new NetworkPolicy(config.webhooks.allowedNetworks);
  app.post<{ Body: Static<typeof CreateBody> }>('/webhooks', { config: WRITE, schema: { tags: ['webhooks'], summary: 'Add an endpoint; the answer carries its secret (whsec_...), shown this once', body: CreateBody } }, async (req, reply) => {
    const tenantId = scopeOf(req) ?? req.body.tenantId;
    if (!tenantId) throw invalid('tenantId is required for a platform administrator', [{ field: '/body/tenantId', message: 'the tenant whose events the endpoint receives' }]);
    return reply.code(201).send(await createWebhook(store, actorOf(req), policy, { ...req.body, tenantId }));
  });
  app.get<{ Querystring: Static<typeof ListQuery> }>('/webhooks', { config: READ, schema: { tags: ['webhooks'], summary: 'Endpoints (secrets are never shown again)', querystring: ListQuery } },
    async (req) => ({ items: await listWebhooks(store, scopeOf(req), req.query.tenantId) }));
  app.get('/webhooks/event-types', { config: READ, schema: { tags: ['webhooks'], summary: 'Every event type an endpoint can subscribe to' } }, async () => {
    return { items: WEBHOOK_EVENT_TYPES.map((type) => ({ type })) };
  });
  app.get<{ Params: Static<typeof IdParams> }>('/webhooks/:id', { config: READ, schema: { tags: ['webhooks'], params: IdParams } },
    async (req) => getWebhook(store, req.params.id, scopeOf(req)));
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateBody> }>('/webhooks/:id', { config: WRITE, schema: { tags: ['webhooks'], summary: 'Change the URL, events or description; enable or disable', params: IdParams, body: UpdateBody } },
    async (req) => updateWebhook(store, actorOf(req), policy, req.params.id, scopeOf(req), req.body));
  app.delete<{ Params: Static<typeof IdParams> }>('/webhooks/:id', { config: WRITE, schema: { tags: ['webhooks'], params: IdParams } }, async (req, reply) => {
    await deleteWebhook(store, actorOf(req), req.params.id, scopeOf(req));
    return reply.code(204).send();
  });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RotateBody> }>('/webhooks/:id/rotate-secret', {
    config: WRITE, schema: { tags: ['webhooks'], summary: 'A new secret, shown once; the old one signs too until the overlap ends (default 24 h)', params: IdParams, body: RotateBody },
  }, async (req) => rotateSecret(store, actorOf(req), req.params.id, scopeOf(req), req.body?.overlapHours));
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ReplayBody> }>('/webhooks/:id/replay', { config: WRITE, schema: { tags: ['webhooks'], summary: 'Send the events of a time range again (same webhook-id)', params: IdParams, body: ReplayBody } }, async (req) => {
    const from = Date.parse(req.body.from);
    const to = Date.parse(req.body.to);
    if (!(to > from)) throw invalid('to must be after from', [{ field: '/body/to', message: 'after from' }]);
    return replayWebhook(store, actorOf(req), req.params.id, scopeOf(req), { from, to });
  });
  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof DeliveriesQuery> }>('/webhooks/:id/deliveries', {
    config: READ, schema: { tags: ['webhooks'], summary: 'Delivery history of an endpoint, newest first', params: IdParams, querystring: DeliveriesQuery },
  }, async (req) => webhookDeliveries(store, req.params.id, scopeOf(req), req.query));
};
