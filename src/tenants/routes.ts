import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { RouteModule } from '../http/app.ts';
import { scopeOf } from '../http/access.ts';
import { actorOf } from '../http/auth.ts';
import { closed, IdParams, Name } from '../http/schemas.ts';
import { createTenant, getTenant, listTenants, listTenantsPage, updateTenant } from './service.ts';

const CreateBody = Type.Object({ name: Name, accountType: Type.Optional(Type.Union([Type.Literal('bulk'), Type.Literal('transactional')])) }, closed);
const PatchBody = Type.Object({
  name: Type.Optional(Name),
  accountType: Type.Optional(Type.Union([Type.Literal('bulk'), Type.Literal('transactional')])),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])),
}, closed);

const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
}, closed);
const READERS = ['administrator', 'auditor', 'support', 'operator', 'account'] as const;

export const tenantRoutes: RouteModule = (app, { store }) => {
  app.get<{ Querystring: Static<typeof ListQuery> }>('/tenants', {
    config: { access: { roles: READERS, tenant: 'caller' } },
    schema: { tags: ['tenants'], summary: 'List tenants with purchased / used / remaining totals, by name; with limit, a page and the nextCursor of the next one', querystring: ListQuery },
  }, async (req) => {
    const { q, status, limit, cursor } = req.query;
    // Without paging parameters every tenant the caller may see, as before.
    if (q === undefined && status === undefined && limit === undefined && cursor === undefined) return { items: await listTenants(store.db, { tenantId: scopeOf(req) }), nextCursor: null };
    return listTenantsPage(store.db, { tenantId: scopeOf(req), q, status, limit, cursor });
  });
  app.post<{ Body: Static<typeof CreateBody> }>('/tenants', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['tenants'], summary: 'Create a tenant', body: CreateBody } }, async (req, reply) => {
    return reply.code(201).send(await createTenant(store, actorOf(req), req.body));
  });
  app.get<{ Params: Static<typeof IdParams> }>('/tenants/:id', { config: { access: { roles: READERS, tenant: { param: 'id', what: 'tenant' } } }, schema: { tags: ['tenants'], params: IdParams } }, async (req) => {
    return getTenant(store.db, req.params.id);
  });
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchBody> }>('/tenants/:id', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['tenants'], params: IdParams, body: PatchBody } }, async (req) => {
    return updateTenant(store, actorOf(req), req.params.id, req.body);
  });
};
