import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { RouteModule } from '../http/app.ts';
import { actorOf } from '../http/auth.ts';
import { closed } from '../http/schemas.ts';
import { addSuppression, getSuppression, listSuppressions, removeSuppression, SUPPRESSION_REASONS } from './suppressions.ts';
import { notFound } from '../core/errors.ts';

const TenantParams = Type.Object({ tenantId: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
const AddressParams = Type.Object({ tenantId: Type.String({ minLength: 1, maxLength: 64 }), address: Type.String({ minLength: 3, maxLength: 254 }) }, closed);
const ListQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 254 })),
  reason: Type.Optional(Type.Union(SUPPRESSION_REASONS.map((r) => Type.Literal(r)))),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
}, closed);
const AddBody = Type.Object({ address: Type.String({ minLength: 3, maxLength: 254 }), note: Type.Optional(Type.String({ maxLength: 500 })) }, closed);

const READERS = ['administrator', 'auditor', 'support', 'operator', 'account'] as const;
// Business systems (API keys) manage their own tenant's list, as they manage unsubscribes.
const WRITERS = ['administrator', 'operator', 'account'] as const;

export const suppressionRoutes: RouteModule = (app, { store }) => {
  app.get<{ Params: Static<typeof TenantParams>; Querystring: Static<typeof ListQuery> }>('/tenants/:tenantId/suppressions', { config: { access: { roles: READERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['suppressions'], summary: 'List or search the tenant\'s suppressed addresses', params: TenantParams, querystring: ListQuery },
  }, async (req) => {
    return listSuppressions(store.db, { tenantId: req.params.tenantId, ...req.query });
  });
  app.get<{ Params: Static<typeof AddressParams> }>('/tenants/:tenantId/suppressions/:address', { config: { access: { roles: READERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['suppressions'], summary: 'One suppressed address with its reason and evidence', params: AddressParams },
  }, async (req) => {
    const s = await getSuppression(store.db, req.params.tenantId, req.params.address);
    if (!s) throw notFound('suppression');
    return s;
  });
  app.post<{ Params: Static<typeof TenantParams>; Body: Static<typeof AddBody> }>('/tenants/:tenantId/suppressions', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['suppressions'], summary: 'Suppress an address for the tenant', params: TenantParams, body: AddBody },
  }, async (req, reply) => {
    const s = await addSuppression(store, actorOf(req), { tenantId: req.params.tenantId, address: req.body.address, note: req.body.note });
    return reply.code(201).send(s);
  });
  app.delete<{ Params: Static<typeof AddressParams> }>('/tenants/:tenantId/suppressions/:address', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['suppressions'], summary: 'Remove an address from the tenant\'s suppression list', params: AddressParams },
  }, async (req, reply) => {
    await removeSuppression(store, actorOf(req), req.params.tenantId, req.params.address);
    return reply.code(204).send();
  });
};
