import { Type } from '@sinclair/typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { HttpDeps, RouteModule } from '../http/app.ts';
import { principalOf } from '../http/access.ts';
import { actorOf } from '../http/auth.ts';
import { closed, HeaderText } from '../http/schemas.ts';
import { invalid } from '../core/errors.ts';
import { getPlatformSecret } from '../core/secrets.ts';
import { exportSubscribers } from './export.ts';
import { confirmationUrl } from './optin.ts';
import { createImport, getImport, listImports, processNodeId } from './import/import.ts';
import { Importer } from './import/importer.ts';
import { createList, deleteList, getList, listLists, updateList } from './lists.ts';
import { getSubscriber, listMembers, subscribe, unsubscribe, updateSubscriber } from './subscribers.ts';
import { MEMBER_STATUSES } from './tables.ts';

const READERS = ['administrator', 'auditor', 'support', 'operator', 'account'] as const;
// Business systems (API keys) manage their own tenant's lists, subscribes and unsubscribes.
const WRITERS = ['administrator', 'operator', 'account'] as const;

const Id = Type.String({ minLength: 1, maxLength: 64 });
const TenantParams = Type.Object({ tenantId: Id }, closed);
const ListParams = Type.Object({ tenantId: Id, listId: Id }, closed);
const ImportParams = Type.Object({ tenantId: Id, importId: Id }, closed);
const SubscriberParams = Type.Object({ tenantId: Id, ref: Type.String({ minLength: 1, maxLength: 254 }) }, closed);
const Status = Type.Union(MEMBER_STATUSES.map((s) => Type.Literal(s)));
const Attributes = Type.Record(Type.String(), Type.Unknown(), { maxProperties: 200, propertyNames: { minLength: 1, maxLength: 64 } });

const ListBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  doubleOptIn: Type.Optional(Type.Boolean()),
  form: Type.Optional(Type.Object({
    enabled: Type.Optional(Type.Boolean()),
    accountId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    from: Type.Optional(Type.Union([HeaderText({ maxLength: 320, description: 'one address on a sending domain of the tenant, e.g. "News <news@bank.example>"' }), Type.Null()])),
  }, closed)),
}, closed);
const ListPatch = Type.Partial(ListBody, closed);
const MembersQuery = Type.Object({ status: Type.Optional(Status), after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, closed);
const SubscribeBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320 }),
  name: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  attributes: Type.Optional(Attributes),
  status: Type.Optional(Type.Union([Type.Literal('subscribed'), Type.Literal('unconfirmed')])),
}, closed);
const UnsubscribeBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320 }),
  status: Type.Optional(Type.Union([Type.Literal('unsubscribed'), Type.Literal('bounced'), Type.Literal('complained')])),
}, closed);
const SubscriberPatch = Type.Object({ name: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])), attributes: Type.Optional(Attributes) }, closed);
const Format = Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]);
const NewStatus = Type.Union([Type.Literal('subscribed'), Type.Literal('unconfirmed')]);
const ImportBody = Type.Object({ format: Format, fileName: Type.Optional(Type.String({ maxLength: 255 })), status: Type.Optional(NewStatus) }, closed);
const ImportFileQuery = Type.Object({ status: Type.Optional(NewStatus) }, closed);
const ImportStatus = Type.Union(['pending', 'running', 'completed', 'failed', 'discarded'].map((s) => Type.Literal(s)));
const ImportsQuery = Type.Object({ listId: Type.Optional(Id), status: Type.Optional(ImportStatus), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, closed);
const ExportQuery = Type.Object({ format: Type.Optional(Format), status: Type.Optional(Status) }, closed);

type P<T extends TSchema> = { Params: Static<T> };

/** A subscriber reference in a path: the numeric id, or the address itself. */
const refOf = (ref: string) => (/^\d+$/.test(ref) ? { id: Number(ref) } : { email: ref });

const FILE_TYPES = ['text/csv', 'text/plain', 'application/csv', 'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'application/octet-stream'];

function fileRoutes(app: FastifyInstance, { store, config }: HttpDeps): void {
  // Imports run here, on the nodes that take the uploads: parsed in worker threads, recovered
  // when a node stops (see Importer).
  const importer = new Importer(store, { config: config.imports, dataDir: config.dataDir, nodeId: processNodeId('server'), log: app.log });
  importer.start();
  // Before the server waits for requests in flight: an upload being imported answers 503 at once
  // and its import resumes after its last committed line on restart.
  app.addHook('preClose', () => importer.stop());

  // Import files stream to disk as they arrive, never buffered whole: the body stays a stream
  // for these types (in this plugin's scope only); imports.maxFileBytes is its limit.
  app.addContentTypeParser(FILE_TYPES, (_req, payload, done) => done(null, payload));

  app.post<P<typeof ListParams> & { Body: Static<typeof ImportBody> }>('/tenants/:tenantId/lists/:listId/imports', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Start an import: returns its id (status pending); upload the file with PUT /imports/{id}/file', params: ListParams, body: ImportBody },
  }, async (req, reply) => {
    const id = await createImport(store, actorOf(req), { tenantId: req.params.tenantId, listId: req.params.listId, format: req.body.format, fileName: req.body.fileName ?? null, status: req.body.status });
    return reply.code(201).send(await getImport(store, actorOf(req), req.params.tenantId, id));
  });

  app.put<P<typeof ImportParams> & { Querystring: Static<typeof ImportFileQuery> }>('/tenants/:tenantId/imports/:importId/file', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: {
      tags: ['subscribers'], params: ImportParams, querystring: ImportFileQuery,
      summary: 'Upload the CSV or XLSX file of an import (or the same file again to resume a failed one); answers when it ends, and GET /imports/{id} shows the progress meanwhile',
    },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const job = await getImport(store, actor, req.params.tenantId, req.params.importId);
    const body = req.body as NodeJS.ReadableStream | undefined;
    if (!body || typeof (body as { pipe?: unknown }).pipe !== 'function') {
      throw invalid(`send the file as the request body with Content-Type ${job.format === 'csv' ? 'text/csv' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'}`, [{ field: 'body', message: 'no file' }]);
    }
    const source = body as unknown as Readable;
    const length = Number(req.headers['content-length']);
    try {
      return await importer.upload(actor, req.params.tenantId, req.params.importId, source, { contentLength: Number.isFinite(length) ? length : undefined, status: req.query.status });
    } catch (err) {
      // A refused file: read the rest of the upload away so the client, still sending, gets
      // the answer. The connection is not kept for another request (nor, when the server is
      // stopping, kept open until its keep-alive timeout).
      reply.header('connection', 'close');
      if (!source.readableEnded) source.resume();
      throw err;
    }
  });

  app.post<P<typeof ImportParams>>('/tenants/:tenantId/imports/:importId/resume', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Resume a failed import after its last committed line, from its kept file (otherwise send the file again with PUT)', params: ImportParams },
  }, async (req, reply) => {
    return reply.code(202).send(await importer.resume(actorOf(req), req.params.tenantId, req.params.importId));
  });

  app.post<P<typeof ImportParams>>('/tenants/:tenantId/imports/:importId/discard', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Discard an import that has not completed: never resumed, its kept file deleted (rows committed before stay)', params: ImportParams },
  }, async (req) => {
    return importer.discard(actorOf(req), req.params.tenantId, req.params.importId);
  });
}

export const subscriberRoutes: RouteModule = async (app, deps) => {
  const { store } = deps;

  app.get<P<typeof TenantParams>>('/tenants/:tenantId/lists', { config: { access: { roles: READERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'The tenant\'s lists with member counts by status', params: TenantParams },
  }, async (req) => {
    return { items: await listLists(store, actorOf(req), req.params.tenantId) };
  });
  app.post<P<typeof TenantParams> & { Body: Static<typeof ListBody> }>('/tenants/:tenantId/lists', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Create a list', params: TenantParams, body: ListBody },
  }, async (req, reply) => {
    return reply.code(201).send(await createList(store, actorOf(req), { tenantId: req.params.tenantId, ...req.body }));
  });
  app.get<P<typeof ListParams>>('/tenants/:tenantId/lists/:listId', { config: { access: { roles: READERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'One list with member counts by status', params: ListParams },
  }, async (req) => {
    return getList(store, actorOf(req), req.params.tenantId, req.params.listId);
  });
  app.patch<P<typeof ListParams> & { Body: Static<typeof ListPatch> }>('/tenants/:tenantId/lists/:listId', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Rename a list or change its double opt-in', params: ListParams, body: ListPatch },
  }, async (req) => {
    return updateList(store, actorOf(req), { tenantId: req.params.tenantId, listId: req.params.listId, ...req.body });
  });
  app.delete<P<typeof ListParams>>('/tenants/:tenantId/lists/:listId', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Delete a list and its memberships (the subscribers stay)', params: ListParams },
  }, async (req, reply) => {
    await deleteList(store, actorOf(req), { tenantId: req.params.tenantId, listId: req.params.listId });
    return reply.code(204).send();
  });
  app.get<P<typeof ListParams> & { Querystring: Static<typeof MembersQuery> }>('/tenants/:tenantId/lists/:listId/members', { config: { access: { roles: READERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'A page of a list\'s members in id order; pass nextAfter as after for the next page', params: ListParams, querystring: MembersQuery },
  }, async (req) => {
    return listMembers(store, actorOf(req), { tenantId: req.params.tenantId, listId: req.params.listId, ...req.query });
  });
  app.post<P<typeof ListParams> & { Body: Static<typeof SubscribeBody> }>('/tenants/:tenantId/lists/:listId/subscribe', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Subscribe an address (unconfirmed on a double opt-in list unless status is given; then confirmUrl is the link to mail)', params: ListParams, body: SubscribeBody },
  }, async (req, reply) => {
    const p = principalOf(req);
    const r = await subscribe(store, actorOf(req), { tenantId: req.params.tenantId, listId: req.params.listId, ...req.body, source: p.kind === 'apikey' ? 'api' : 'console' });
    // An unconfirmed subscriber gets the double opt-in link for the business system to mail.
    const confirmUrl = r.status === 'unconfirmed'
      ? confirmationUrl(deps.config.http.publicUrl, await getPlatformSecret(store), { tenantId: req.params.tenantId, listId: req.params.listId, subscriberId: r.subscriber.id })
      : null;
    return reply.code(r.added ? 201 : 200).send({ ...r, confirmUrl });
  });
  app.post<P<typeof ListParams> & { Body: Static<typeof UnsubscribeBody> }>('/tenants/:tenantId/lists/:listId/unsubscribe', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Unsubscribe an address from one list; effective for every later send at once', params: ListParams, body: UnsubscribeBody },
  }, async (req) => {
    const p = principalOf(req);
    return { changed: await unsubscribe(store, actorOf(req), { tenantId: req.params.tenantId, listId: req.params.listId, ...req.body, source: p.kind === 'apikey' ? 'api' : 'console' }) };
  });
  app.post<P<typeof TenantParams> & { Body: Static<typeof UnsubscribeBody> }>('/tenants/:tenantId/unsubscribe', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Unsubscribe an address from every list of the tenant', params: TenantParams, body: UnsubscribeBody },
  }, async (req) => {
    const p = principalOf(req);
    return { changed: await unsubscribe(store, actorOf(req), { tenantId: req.params.tenantId, listId: null, ...req.body, source: p.kind === 'apikey' ? 'api' : 'console' }) };
  });
  app.get<P<typeof SubscriberParams>>('/tenants/:tenantId/subscribers/:ref', { config: { access: { roles: READERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'A subscriber (by id or address) with its status on every list', params: SubscriberParams },
  }, async (req) => {
    return getSubscriber(store, actorOf(req), req.params.tenantId, refOf(req.params.ref));
  });
  app.patch<P<typeof SubscriberParams> & { Body: Static<typeof SubscriberPatch> }>('/tenants/:tenantId/subscribers/:ref', { config: { access: { roles: WRITERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Change a subscriber\'s name or attributes (merged; null removes one)', params: SubscriberParams, body: SubscriberPatch },
  }, async (req) => {
    const actor = actorOf(req);
    const current = await getSubscriber(store, actor, req.params.tenantId, refOf(req.params.ref));
    return updateSubscriber(store, actor, { tenantId: req.params.tenantId, subscriberId: current.id, ...req.body });
  });
  app.get<P<typeof TenantParams> & { Querystring: Static<typeof ImportsQuery> }>('/tenants/:tenantId/imports', { config: { access: { roles: READERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'The tenant\'s imports, newest first, with their progress', params: TenantParams, querystring: ImportsQuery },
  }, async (req) => {
    return { items: await listImports(store, actorOf(req), req.params.tenantId, req.query as { listId?: string; status?: 'pending' | 'running' | 'completed' | 'failed' | 'discarded'; limit?: number }) };
  });
  app.get<P<typeof ImportParams>>('/tenants/:tenantId/imports/:importId', { config: { access: { roles: READERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'An import\'s progress or outcome, with per-line errors', params: ImportParams },
  }, async (req) => {
    return getImport(store, actorOf(req), req.params.tenantId, req.params.importId);
  });
  app.get<P<typeof ListParams> & { Querystring: Static<typeof ExportQuery> }>('/tenants/:tenantId/lists/:listId/export', { config: { access: { roles: READERS, tenant: { param: 'tenantId', what: 'tenant' } } },
    schema: { tags: ['subscribers'], summary: 'Download a list as CSV or XLSX (formula cells neutralised)', params: ListParams, querystring: ExportQuery },
  }, async (req, reply) => {
    const out = await exportSubscribers(store, actorOf(req), { tenantId: req.params.tenantId, listId: req.params.listId, format: req.query.format ?? 'csv', status: req.query.status });
    return reply.header('content-type', out.contentType)
      .header('content-disposition', `attachment; filename="export.${req.query.format ?? 'csv'}"; filename*=UTF-8''${encodeURIComponent(out.fileName)}`)
      .send(out.stream);
  });

  await app.register(async (scoped) => fileRoutes(scoped, deps));
};
