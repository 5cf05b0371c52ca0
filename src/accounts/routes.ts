import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { notFound } from '../core/errors.ts';
import type { RouteModule } from '../http/app.ts';
import { assertInScope, principalOf, scopeOf } from '../http/access.ts';
import { actorOf } from '../http/auth.ts';
import { Cidrs, closed, IdParams, Name, Password } from '../http/schemas.ts';
import { createApiKey, listApiKeys, revokeApiKey } from './apikeys.ts';
import { createAccount, deleteAccount, getAccount, listAccounts, listQuotaAlerts, setAccountPassword, updateAccount } from './service.ts';

const SendingType = Type.Union([Type.Literal('total'), Type.Literal('daily'), Type.Literal('monthly')]);
const Quota = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);
const QuotaBytes = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'bytes accepted for delivery per period (message size × recipients); null: unlimited' });
const CreateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.Optional(Password),
  sendingType: Type.Optional(SendingType),
  quota: Type.Optional(Quota),
  quotaBytes: Type.Optional(QuotaBytes),
  allowIps: Type.Optional(Cidrs),
  maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  messagesPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  tracking: Type.Optional(Type.Boolean()),
}, closed);
const PatchBody = Type.Object({
  sendingType: Type.Optional(SendingType),
  quota: Type.Optional(Quota),
  quotaBytes: Type.Optional(QuotaBytes),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('held'), Type.Literal('disabled')])),
  allowIps: Type.Optional(Cidrs),
  maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  messagesPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  tracking: Type.Optional(Type.Boolean()),
}, closed);
const PasswordBody = Type.Object({ password: Password }, closed);
const KeyBody = Type.Object({ name: Type.Optional(Name) }, closed);
const TenantParams = Type.Object({ tenantId: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
const ListQuery = Type.Object({ tenantId: Type.Optional(Type.String({ maxLength: 64 })) }, closed);

const READERS = ['administrator', 'auditor', 'support', 'operator', 'account'] as const;

export const accountRoutes: RouteModule = (app, { store }) => {
  /** Loads an account the caller may see; other tenants' accounts are 404. */
  const visibleAccount = async (req: FastifyRequest, id: string) => {
    const p = principalOf(req);
    const account = await getAccount(store.db, id);
    assertInScope(req, account.tenantId, 'account');
    // An API key sees only its own account.
    if (p.kind === 'apikey' && p.accountId !== account.id) throw notFound('account');
    return { p, account };
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>('/accounts', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['accounts'], summary: 'List sending accounts', querystring: ListQuery } }, async (req) => {
    const p = principalOf(req);
    const scope = scopeOf(req);
    if (scope && req.query.tenantId && req.query.tenantId !== scope) return { items: [] };
    const items = await listAccounts(store.db, { tenantId: scope ?? req.query.tenantId ?? null });
    return { items: p.kind === 'apikey' ? items.filter((a) => a.id === p.accountId) : items };
  });
  app.post<{ Params: Static<typeof TenantParams>; Body: Static<typeof CreateBody> }>('/tenants/:tenantId/accounts', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['accounts'], summary: 'Create a sending account (SMTP credentials, quota)', params: TenantParams, body: CreateBody } }, async (req, reply) => {
    return reply.code(201).send(await createAccount(store, actorOf(req), { ...req.body, tenantId: req.params.tenantId }));
  });
  app.get<{ Params: Static<typeof IdParams> }>('/accounts/:id', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['accounts'], params: IdParams } }, async (req) => (await visibleAccount(req, req.params.id)).account);
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchBody> }>('/accounts/:id', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['accounts'], summary: 'Change quota, sending type, status, limits', params: IdParams, body: PatchBody } }, async (req) => {
    return updateAccount(store, actorOf(req), req.params.id, req.body);
  });
  app.delete<{ Params: Static<typeof IdParams> }>('/accounts/:id', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['accounts'], params: IdParams } }, async (req, reply) => {
    await deleteAccount(store, actorOf(req), req.params.id);
    return reply.code(204).send();
  });
  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof PasswordBody> }>('/accounts/:id/password', { config: { access: { roles: ['administrator', 'operator'], tenant: 'caller' } }, schema: { tags: ['accounts'], summary: 'Change the SMTP password', params: IdParams, body: PasswordBody } }, async (req, reply) => {
    await visibleAccount(req, req.params.id);
    await setAccountPassword(store, actorOf(req), req.params.id, req.body.password);
    return reply.code(204).send();
  });
  app.get<{ Params: Static<typeof IdParams> }>('/accounts/:id/quota-alerts', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['accounts'], params: IdParams } }, async (req) => {
    const { account } = await visibleAccount(req, req.params.id);
    return { items: await listQuotaAlerts(store.db, { accountId: account.id }) };
  });
  app.get<{ Params: Static<typeof IdParams> }>('/accounts/:id/api-keys', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['api keys'], params: IdParams } }, async (req) => {
    const { account } = await visibleAccount(req, req.params.id);
    return { items: await listApiKeys(store.db, { accountId: account.id }) };
  });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof KeyBody> }>('/accounts/:id/api-keys', { config: { access: { roles: ['administrator', 'operator'], tenant: 'caller' } }, schema: { tags: ['api keys'], summary: 'Create an API key; the key is shown in this response only', params: IdParams, body: KeyBody } }, async (req, reply) => {
    const { account } = await visibleAccount(req, req.params.id);
    const created = await createApiKey(store, actorOf(req), { tenantId: account.tenantId, accountId: account.id, name: req.body.name });
    return reply.code(201).send({ ...created.apiKey, key: created.key });
  });
  app.delete<{ Params: Static<typeof IdParams> }>('/api-keys/:id', { config: { access: { roles: ['administrator', 'operator'], tenant: 'caller' } }, schema: { tags: ['api keys'], params: IdParams } }, async (req) => {
    return revokeApiKey(store, actorOf(req), req.params.id, { tenantId: scopeOf(req) });
  });
};
