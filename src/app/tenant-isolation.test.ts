import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildHttpApp } from '../http/app.ts';
import type { RouteModule } from '../http/app.ts';
import { makeSender } from '../testing/senders.ts';
import { sessionFor, testConfig } from '../testing/http.ts';
import type { Session } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { apiRoutes, httpDeps, publicRoutes } from './capabilities.ts';

/**
 * Walks every route of the OpenAPI document as an operator of tenant A, with tenant B's ids in
 * every path parameter (and `tenantId` in the query and body): each answer must be 403 or 404,
 * or a success that holds none of B's ids. And as an auditor, every write must be 403. A new
 * route is walked as soon as it is registered; one whose path names a parameter this test has
 * no id of tenant B for fails until the table below gets one.
 */

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface Route { method: Method; path: string }

interface TenantB {
  tenantId: string;
  accountId: string;
  apiKeyId: string;
  domainId: string;
  userId: string;
  templateId: string;
  campaignId: string;
  listId: string;
  subscriberEmail: string;
  importId: string;
  messageId: string;
  suppressed: string;
  ticketId: string;
  inspectionId: string;
  webhookId: string;
  exportId: string;
  archiveId: string;
  holdId: string;
  deletionId: string;
  /** Every id and name of B's that must never show in an answer to A. */
  secrets: string[];
}

/** Valid bodies, so a route reaches its handler and its own tenant check rather than a 400. */
function bodyFor(route: Route, b: TenantB): unknown {
  const key = `${route.method} ${route.path}`;
  const bodies: Record<string, unknown> = {
    'POST /api/v1/templates': { tenantId: b.tenantId, name: 'walk', subject: 'walk', text: 'walk' },
    'PUT /api/v1/templates/{id}': { name: 'walk', subject: 'walk', text: 'walk' },
    'POST /api/v1/templates/{id}/test-send': { accountId: b.accountId, from: 'walk@b.example', to: 'someone@example.test' },
    'POST /api/v1/templates/preview': { subject: 'walk', text: 'walk' },
    'POST /api/v1/campaigns': { tenantId: b.tenantId, name: 'walk', accountId: b.accountId, listId: b.listId, templateId: b.templateId, from: 'walk@b.example' },
    'PUT /api/v1/accounts/{id}/password': { password: 'Walk-password-1!' },
    'POST /api/v1/accounts/{id}/api-keys': { name: 'walk' },
    'POST /api/v1/delivery/pause': { scope: 'account', target: b.accountId },
    'POST /api/v1/delivery/resume': { scope: 'account', target: b.accountId },
    'POST /api/v1/delivery/cancel': { scope: 'account', target: b.accountId },
    'POST /api/v1/tickets': { priority: 'P3', title: 'walk', tenantId: b.tenantId },
    'POST /api/v1/tickets/{id}/comments': { text: 'walk' },
    'POST /api/v1/uploads': { filename: 'walk.txt', content: Buffer.from('walk').toString('base64') },
    'POST /api/v1/archive/holds': { tenantId: b.tenantId, kind: 'tenant', reason: 'walk' },
    'POST /api/v1/archive/deletions': { archiveId: Number(b.archiveId), reason: 'walk' },
    'POST /api/v1/users': { username: 'walker', password: 'Walk-password-1!', role: 'operator', tenantId: b.tenantId },
    'POST /api/v1/webhooks': { url: 'https://walk.example/hooks', events: ['message.delivered'], tenantId: b.tenantId },
    'PATCH /api/v1/webhooks/{id}': { description: 'walk' },
    'POST /api/v1/webhooks/{id}/replay': { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date().toISOString() },
    'POST /api/v1/delivery/exports': { format: 'csv', tenantId: b.tenantId },
  };
  return bodies[key] ?? (route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
}

/** Tenant B's id for a path parameter; `{id}` is read by the collection it follows. */
function paramValue(path: string, name: string, b: TenantB): string {
  const byName: Record<string, string> = { tenantId: b.tenantId, listId: b.listId, ref: b.subscriberEmail, importId: b.importId, address: b.suppressed, file: `${b.archiveId}.eml` };
  if (name === 'id' && path.startsWith('/api/v1/archive/holds/')) return b.holdId;
  if (name === 'id' && path.startsWith('/api/v1/archive/deletions/')) return b.deletionId;
  if (name in byName) return byName[name]!;
  if (name === 'id' && path === '/api/v1/delivery/messages/{id}/timeline') return b.messageId;
  if (name === 'id' && path.startsWith('/api/v1/delivery/exports/')) return b.exportId;
  if (name === 'id') {
    const collection = /^\/api\/v1\/([^/]+)\/\{id\}/.exec(path)?.[1];
    const byCollection: Record<string, string> = {
      tenants: b.tenantId, accounts: b.accountId, 'api-keys': b.apiKeyId, domains: b.domainId, users: b.userId, templates: b.templateId,
      campaigns: b.campaignId, messages: b.messageId, tickets: b.ticketId, inspections: b.inspectionId, webhooks: b.webhookId,
    };
    if (collection && collection in byCollection) return byCollection[collection]!;
  }
  throw new Error(`${path}: no id of tenant B for {${name}}; add one to this test`);
}

/** Query strings a route requires to get past validation; `tenantId` is always B's. */
function queryFor(route: Route, names: string[], b: TenantB): string {
  const q = new URLSearchParams();
  if (names.includes('tenantId')) q.set('tenantId', b.tenantId);
  if (names.includes('from') && names.includes('to')) {
    // Statistics take calendar dates; the logs take instants.
    const day = route.path.startsWith('/api/v1/stats/') ? (t: string) => t.slice(0, 10) : (t: string) => t;
    q.set('from', day(new Date(Date.now() - 86_400_000).toISOString()));
    q.set('to', day(new Date(Date.now() + 86_400_000).toISOString()));
  }
  if (route.path === '/api/v1/inspections/series') {
    q.set('key', 'queue.depth');
    q.set('from', new Date(Date.now() - 86_400_000).toISOString());
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

interface OpenApi { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> }

function routesOf(doc: OpenApi): (Route & { query: string[] })[] {
  const out: (Route & { query: string[] })[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      out.push({ method: method.toUpperCase() as Method, path, query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name) });
    }
  }
  return out;
}

async function call(session: Session, route: Route & { query: string[] }, b: TenantB): Promise<{ url: string; res: LightMyRequestResponse }> {
  const url = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(paramValue(route.path, name, b))) + queryFor(route, route.query, b);
  return { url, res: await session.request(route.method, url, bodyFor(route, b)) };
}

/** What is wrong with an operator of A's answer on a route, or null when it keeps B's data out. */
function leak(res: LightMyRequestResponse, b: TenantB): string | null {
  if (res.statusCode === 403 || res.statusCode === 404) return null;
  if (res.statusCode >= 200 && res.statusCode < 300) {
    const shown = b.secrets.filter((s) => res.body.includes(s));
    return shown.length ? `${res.statusCode} showing ${shown.join(', ')}` : null;
  }
  return `${res.statusCode} (expected 403, 404, or a success without B's data): ${res.body.slice(0, 300)}`;
}

/**
 * Routes an auditor may call with a write method: their own session and settings (language), the
 * four-eyes decision on a campaign (an auditor's duty), and a stored template's preview (renders,
 * stores nothing).
 */
const AUDITOR_WRITES = new Set(['POST /api/v1/templates/{id}/preview', 'POST /api/v1/auth/login', 'POST /api/v1/auth/logout', 'POST /api/v1/auth/totp', 'DELETE /api/v1/auth/totp', 'POST /api/v1/auth/totp/enrol', 'POST /api/v1/auth/totp/confirm', 'POST /api/v1/auth/password', 'PATCH /api/v1/auth/me', 'POST /api/v1/campaigns/{id}/approve', 'POST /api/v1/campaigns/{id}/reject', 'POST /api/v1/archive/deletions/{id}/approve', 'POST /api/v1/archive/deletions/{id}/reject',
  // Auditors export the delivery log they may read: the job is a read, recorded in the operation log.
  'POST /api/v1/delivery/exports']);

describeEachEngine('tenant isolation on every route', (get) => {
  let app: FastifyInstance;
  let b: TenantB;
  let operatorA: Session;
  let auditor: Session;

  test('setup: tenant B with one of everything, an operator of tenant A, an auditor', async () => {
    const { store, dataDir } = get();
    app = await buildHttpApp(httpDeps(store, testConfig(dataDir)), apiRoutes, {}, publicRoutes);
    const a = await makeSender(store, { name: 'walk-a', domain: 'a.example' });
    const sender = await makeSender(store, { name: 'walk-b', domain: 'b.example' });
    const admin = await sessionFor(app, store, 'administrator');
    const support = await sessionFor(app, store, 'support');
    const T = sender.tenantId;
    const ok = (res: LightMyRequestResponse) => {
      assert.ok(res.statusCode >= 200 && res.statusCode < 300, res.body);
      return res.json();
    };
    const key = ok(await admin.request('POST', `/api/v1/accounts/${sender.account.id}/api-keys`, { name: 'b-key' }));
    const domain = ok(await admin.request('GET', '/api/v1/domains')).items.find((d: { domain: string }) => d.domain === 'b.example');
    const user = ok(await admin.request('POST', '/api/v1/users', { username: 'b-operator', password: 'B-operator-pass-1', role: 'operator', tenantId: T }));
    const template = ok(await admin.request('POST', '/api/v1/templates', { tenantId: T, name: 'b-template', subject: 'Hello {{ name }}', text: 'Hi {{ name }}' }));
    const list = ok(await admin.request('POST', `/api/v1/tenants/${T}/lists`, { name: 'b-list', doubleOptIn: false }));
    ok(await admin.request('POST', `/api/v1/tenants/${T}/lists/${list.id}/subscribe`, { email: 'b-member@example.test' }));
    const imp = ok(await admin.request('POST', `/api/v1/tenants/${T}/lists/${list.id}/imports`, { format: 'csv' }));
    const campaign = ok(await admin.request('POST', '/api/v1/campaigns', { tenantId: T, name: 'b-campaign', accountId: sender.account.id, listId: list.id, templateId: template.id, from: 'news@b.example' }));
    ok(await admin.request('POST', `/api/v1/tenants/${T}/suppressions`, { address: 'b-suppressed@example.test' }));
    const sent = ok(await app.inject({ method: 'POST', url: '/api/v1/messages', headers: { authorization: `Bearer ${key.key}` }, payload: { from: 'mail@b.example', subject: 'b-message', text: 'x', recipients: [{ email: 'b-recipient@example.test' }] } }));
    const ticket = ok(await support.request('POST', '/api/v1/tickets', { priority: 'P3', title: 'b-ticket', tenantId: T }));
    const inspection = ok(await admin.request('POST', '/api/v1/inspections', { kind: 'light' }));
    const webhook = ok(await admin.request('POST', '/api/v1/webhooks', { url: 'https://hooks.b.example/b-webhook', events: ['message.delivered'], tenantId: T }));
    const exported = ok(await app.inject({ method: 'POST', url: '/api/v1/delivery/exports', headers: { authorization: `Bearer ${key.key}` }, payload: { format: 'csv' } }));
    const archived = await store.db.insertInto('archive_messages').values({
      tenant_id: T, account_id: sender.account.id, lane: 'transactional', message_id: sent.messages[0].messageId, header_message_id: 'b-archived@b.example', mail_from: 'mail@b.example',
      sender: 'mail@b.example', subject: 'b-message', tags: '', sent_at: Date.now(), archived_at: Date.now(), expires_at: Date.now() + 86_400_000, day: new Date().toISOString().slice(0, 10),
      size: 1, sha256: '0'.repeat(64), body: Buffer.from('x'), search_text: 'b-message', removed_at: null, removed_reason: null,
    }).returning('id').executeTakeFirstOrThrow();
    await store.db.insertInto('archive_recipients').values({ archive_id: Number(archived.id), tenant_id: T, recipient: 'b-recipient@example.test', sent_at: Date.now() }).execute();
    const hold = ok(await admin.request('POST', '/api/v1/archive/holds', { tenantId: T, kind: 'address', address: 'b-held@example.test', reason: 'walk' }));
    const deletion = ok(await admin.request('POST', '/api/v1/archive/deletions', { archiveId: Number(archived.id), reason: 'walk' }));
    b = {
      tenantId: T, accountId: sender.account.id, apiKeyId: key.id, domainId: domain.id, userId: user.id, templateId: template.id, campaignId: campaign.id,
      listId: list.id, subscriberEmail: 'b-member@example.test', importId: imp.id, messageId: sent.messages[0].messageId, suppressed: 'b-suppressed@example.test',
      ticketId: ticket.id, inspectionId: inspection.id, archiveId: String(archived.id), holdId: hold.id, deletionId: deletion.id, webhookId: webhook.id, exportId: exported.id,
      secrets: [webhook.id, exported.id, 'hooks.b.example', T, sender.account.id, key.id, domain.id, user.id, template.id, campaign.id, list.id, imp.id, sent.messages[0].messageId, ticket.id, 'b-member@example.test', 'b-suppressed@example.test', 'b-recipient@example.test', 'b-template', 'b-campaign', 'b-list', 'b-ticket', 'walk-b', 'b-archived@b.example', hold.id, deletion.id],
    };
    operatorA = await sessionFor(app, store, 'operator', a.tenantId);
    auditor = await sessionFor(app, store, 'auditor');
  });

  test('an operator of tenant A gets 403 or 404 for every id of tenant B, and sees none of B in any answer', async () => {
    const routes = routesOf((await app.inject({ method: 'GET', url: '/api/openapi.json' })).json());
    assert.ok(routes.length > 80, `only ${routes.length} routes in the OpenAPI document`);
    const problems: string[] = [];
    for (const route of routes) {
      if (route.path.startsWith('/api/v1/auth/')) continue; // the caller's own session
      const { url, res } = await call(operatorA, route, b);
      const wrong = leak(res, b);
      if (wrong) problems.push(`${route.method} ${url}: ${wrong}`);
    }
    assert.deepEqual(problems, []);
  });

  test('an auditor cannot write anywhere (their own session and the four-eyes approval aside)', async () => {
    const routes = routesOf((await app.inject({ method: 'GET', url: '/api/openapi.json' })).json());
    const problems: string[] = [];
    for (const route of routes) {
      if (route.method === 'GET' || AUDITOR_WRITES.has(`${route.method} ${route.path}`)) continue;
      const { url, res } = await call(auditor, route, b);
      if (res.statusCode !== 403) problems.push(`${route.method} ${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    assert.deepEqual(problems, []);
  });

  test('the walk finds a route whose declared tenant scope is removed', async () => {
    const { store, dataDir } = get();
    // The same application, with GET /campaigns/{id} declaring that it touches no tenant's data.
    const stripScope: RouteModule = (api) => {
      api.addHook('onRoute', (route) => {
        if (route.method === 'GET' && route.url === '/api/v1/campaigns/:id' && route.config?.access) {
          route.config = { ...route.config, access: { ...route.config.access, tenant: 'none' } };
        }
      });
    };
    const stripped = await buildHttpApp(httpDeps(store, testConfig(dataDir)), [stripScope, ...apiRoutes], {}, publicRoutes);
    try {
      const session = await sessionFor(stripped, store, 'operator', (await operatorA.request('GET', '/api/v1/auth/me')).json().user.tenantId);
      const routes = routesOf((await stripped.inject({ method: 'GET', url: '/api/openapi.json' })).json());
      const found: string[] = [];
      for (const route of routes) {
        if (route.path.startsWith('/api/v1/auth/')) continue;
        const { res } = await call(session, route, b);
        if (leak(res, b)) found.push(`${route.method} ${route.path}`);
      }
      assert.deepEqual(found, ['GET /api/v1/campaigns/{id}']);
    } finally {
      await stripped.close();
    }
  });

  test('teardown', async () => {
    await app.close();
  });
});
