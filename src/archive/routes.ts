import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { recordOperation } from '../audit/log.ts';
import { invalid, notFound } from '../core/errors.ts';
import type { RouteModule } from '../http/app.ts';
import { actorOf } from '../http/auth.ts';
import { assertInScope, scopeOf } from '../http/access.ts';
import { closed } from '../http/schemas.ts';
import { decideDeletion, requestDeletion } from './deletion.ts';
import { createHold, listHolds, releaseHold } from './holds.ts';
import { verifyArchive } from './integrity.ts';
import { parseRules, policyOf } from './policy.ts';
import { searchArchive } from './search.ts';

const Time = Type.String({ format: 'date-time' });
const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 500, description: 'full text: every term in the subject, sender or text (Chinese included)' })),
  recipient: Type.Optional(Type.String({ maxLength: 254 })),
  sender: Type.Optional(Type.String({ maxLength: 254 })),
  subject: Type.Optional(Type.String({ maxLength: 500 })),
  messageId: Type.Optional(Type.String({ maxLength: 998, description: 'Message-ID header (with or without <>) or the msg_ id' })),
  tag: Type.Optional(Type.String({ maxLength: 100 })),
  from: Type.Optional(Time),
  to: Type.Optional(Time),
  tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  cursor: Type.Optional(Type.String({ maxLength: 64, pattern: '^[0-9]+\\.[0-9]+$' })),
}, closed);
const FileParams = Type.Object({ file: Type.String({ minLength: 1, maxLength: 40, pattern: '^[0-9]+(\\.eml)?$' }) }, closed);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
const TenantParams = Type.Object({ tenantId: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
const Filter = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 500 })), recipient: Type.Optional(Type.String({ maxLength: 254 })), sender: Type.Optional(Type.String({ maxLength: 254 })),
  subject: Type.Optional(Type.String({ maxLength: 500 })), messageId: Type.Optional(Type.String({ maxLength: 998 })), tag: Type.Optional(Type.String({ maxLength: 100 })),
  from: Type.Optional(Time), to: Type.Optional(Time),
}, closed);
const HoldBody = Type.Object({
  tenantId: Type.String({ minLength: 1, maxLength: 64 }),
  kind: Type.Union([Type.Literal('address'), Type.Literal('tenant'), Type.Literal('search')]),
  address: Type.Optional(Type.String({ maxLength: 254 })),
  search: Type.Optional(Filter),
  reason: Type.String({ minLength: 1, maxLength: 1000 }),
}, closed);
const DeletionBody = Type.Object({ archiveId: Type.Integer({ minimum: 1 }), reason: Type.String({ minLength: 1, maxLength: 1000 }) }, closed);
const PolicyBody = Type.Object({
  defaultDays: Type.Integer({ minimum: 1, maximum: 36_500 }),
  rules: Type.Array(Type.Object({
    account: Type.Optional(Type.String({ maxLength: 64 })), lane: Type.Optional(Type.Union([Type.Literal('transactional'), Type.Literal('bulk')])),
    tag: Type.Optional(Type.String({ maxLength: 100 })), days: Type.Integer({ minimum: 1, maximum: 36_500 }),
  }, closed), { maxItems: 100 }),
}, closed);

const READERS = ['administrator', 'auditor', 'operator', 'account'] as const;
const KEEPERS = ['administrator', 'auditor', 'operator'] as const;
// Auditors read and approve (four eyes); they place no holds.
const HOLDERS = ['administrator', 'operator'] as const;

const time = (v: string | undefined) => (v === undefined ? undefined : Date.parse(v));
const filterTimes = (f: { from?: string; to?: string }, where: string) => {
  const from = time(f.from);
  const to = time(f.to);
  if (from !== undefined && to !== undefined && !(to > from)) throw invalid('to must be after from', [{ field: `${where}/to`, message: 'after from' }]);
  return { from, to };
};

export const archiveRoutes: RouteModule = (app, { store, config }) => {
  app.get<{ Querystring: Static<typeof SearchQuery> }>('/archive/messages', {
    config: { access: { roles: READERS, tenant: 'caller' } },
    schema: { tags: ['archive'], summary: '归档检索: search archived mail by recipient, sender, subject, message id, tag, time and full text', querystring: SearchQuery },
  }, async (req) => {
    const { cursor, limit, from: _f, to: _t, tenantId, ...rest } = req.query;
    const scope = scopeOf(req);
    const before = cursor ? { sentAt: Number(cursor.split('.')[0]), id: Number(cursor.split('.')[1]) } : undefined;
    return searchArchive(store.db, store.engine, { ...rest, ...filterTimes(req.query, '/querystring'), tenantId: scope ?? tenantId ?? null }, { limit: limit ?? 50, before });
  });

  app.get<{ Params: Static<typeof FileParams> }>('/archive/messages/:file', {
    config: { access: { roles: READERS, tenant: 'caller' } },
    schema: { tags: ['archive'], summary: 'One archived message: `{id}` as JSON, `{id}.eml` as the message as sent (message/rfc822)', params: FileParams },
  }, async (req, reply) => {
    const id = Number(req.params.file.replace(/\.eml$/, ''));
    const row = await store.db.selectFrom('archive_messages').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('archived message');
    assertInScope(req, row.tenant_id, 'archived message');
    if (req.params.file.endsWith('.eml')) {
      if (row.body === null) throw notFound('archived message body (removed by retention or an approved deletion)');
      return reply.type('message/rfc822').header('content-disposition', `attachment; filename="${row.id}.eml"`).send(Buffer.isBuffer(row.body) ? row.body : Buffer.from(row.body));
    }
    const found = await searchArchive(store.db, store.engine, { tenantId: row.tenant_id, messageId: row.message_id }, { limit: 1 });
    const iso = (n: number | null) => (n === null ? null : new Date(Number(n)).toISOString());
    return found.items[0] ?? {
      id: Number(row.id), messageId: row.message_id, headerMessageId: row.header_message_id, tenantId: row.tenant_id, subject: row.subject, sentAt: iso(row.sent_at), expiresAt: iso(row.expires_at),
      sha256: row.sha256, removedAt: iso(row.removed_at), removedReason: row.removed_reason,
    };
  });

  app.get('/archive/verify', {
    config: { access: { roles: ['administrator', 'auditor', 'operator'], tenant: 'caller' } },
    schema: { tags: ['archive'], summary: 'Checks every archived body against its hash and every sealed day against its chained digest' },
  }, async (req) => verifyArchive(store.db, { tenantId: scopeOf(req) }));

  app.get('/archive/holds', { config: { access: { roles: KEEPERS, tenant: 'caller' } }, schema: { tags: ['archive'], summary: 'Active legal holds' } }, async (req) => ({ items: await listHolds(store.db, scopeOf(req)) }));
  app.post<{ Body: Static<typeof HoldBody> }>('/archive/holds', {
    config: { access: { roles: HOLDERS, tenant: 'caller' } },
    schema: { tags: ['archive'], summary: 'Place a legal hold by address, tenant or search: held mail outlives retention', body: HoldBody },
  }, async (req, reply) => {
    assertInScope(req, req.body.tenantId, 'tenant');
    const { from, to, ...search } = req.body.search ?? {};
    const hold = await createHold(store, actorOf(req), { ...req.body, search: req.body.search ? { ...search, ...filterTimes({ from, to }, '/body/search') } : undefined });
    return reply.code(201).send(hold);
  });
  app.post<{ Params: Static<typeof IdParams> }>('/archive/holds/:id/release', {
    config: { access: { roles: HOLDERS, tenant: 'caller' } },
    schema: { tags: ['archive'], summary: 'Release a legal hold', params: IdParams },
  }, async (req) => releaseHold(store, actorOf(req), req.params.id, scopeOf(req)));

  app.post<{ Body: Static<typeof DeletionBody> }>('/archive/deletions', {
    config: { access: { roles: ['administrator', 'operator'], tenant: 'caller' } },
    schema: { tags: ['archive'], summary: 'Ask for an archived message to be deleted before its expiry (another user approves)', body: DeletionBody },
  }, async (req, reply) => reply.code(201).send(await requestDeletion(store, actorOf(req), req.body, scopeOf(req))));
  for (const [verb, approve] of [['approve', true], ['reject', false]] as const) {
    app.post<{ Params: Static<typeof IdParams> }>(`/archive/deletions/:id/${verb}`, {
      config: { access: { roles: ['administrator', 'operator', 'auditor'], tenant: 'caller' } },
      schema: { tags: ['archive'], summary: `${verb === 'approve' ? 'Approve (and carry out)' : 'Reject'} a deletion another user asked for`, params: IdParams },
    }, async (req) => decideDeletion(store, actorOf(req), req.params.id, approve, scopeOf(req)));
  }

  app.get<{ Params: Static<typeof TenantParams> }>('/tenants/:tenantId/archive-policy', {
    config: { access: { roles: KEEPERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['archive'], summary: 'The tenant\'s archive retention policy', params: TenantParams },
  }, async (req) => {
    return policyOf(store.db, req.params.tenantId, config.archive.defaultRetentionDays);
  });
  app.put<{ Params: Static<typeof TenantParams>; Body: Static<typeof PolicyBody> }>('/tenants/:tenantId/archive-policy', {
    config: { access: { roles: ['administrator', 'operator'], tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['archive'], summary: 'Set the tenant\'s retention: default days and rules by account, stream (lane) or tag; applies to mail archived from now on', params: TenantParams, body: PolicyBody },
  }, async (req) => {
    const tenant = await store.db.selectFrom('tenants').select('id').where('id', '=', req.params.tenantId).executeTakeFirst();
    if (!tenant) throw notFound('tenant');
    const rules = parseRules(req.body.rules, '/body/rules');
    const actor = actorOf(req);
    const now = Date.now();
    await store.transaction(async (trx) => {
      const row = { tenant_id: req.params.tenantId, default_days: req.body.defaultDays, rules: JSON.stringify(rules), updated_at: now, updated_by: actor.operator };
      await trx.insertInto('archive_policies').values(row).onConflict((oc) => oc.column('tenant_id').doUpdateSet({ default_days: row.default_days, rules: row.rules, updated_at: now, updated_by: row.updated_by })).execute();
      await recordOperation(trx, actor, { operation: 'archive.policy', objectType: 'tenant', objectId: req.params.tenantId, tenantId: req.params.tenantId, description: `archive retention set: ${req.body.defaultDays} days by default, ${rules.length} rules`, details: { defaultDays: req.body.defaultDays, rules } }, now);
    });
    return policyOf(store.db, req.params.tenantId, config.archive.defaultRetentionDays);
  });
};
