import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../accounts/apikeys.ts';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { buildHttpApp } from '../http/app.ts';
import { httpDeps } from '../app/capabilities.ts';
import { sessionFor, testConfig } from '../testing/http.ts';
import type { Session } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { authRoutes, userRoutes } from '../users/routes.ts';
import { getPlatformSecret } from '../store/platform-secret.ts';
import { CONFIRM_TTL_MS, confirmationUrl } from './optin.ts';
import { subscriberPublicRoutes } from './public-routes.ts';
import { subscriberRoutes } from './routes.ts';
import { getSubscriber, unsubscribe } from './subscribers.ts';
import { makeTenant } from '../testing/subscribers.ts';

const system: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'system' };

describeEachEngine('lists and subscribers HTTP API', (get) => {
  let app: FastifyInstance;
  let admin: Session;
  let apiKey = '';
  let otherKey = '';
  let listId = '';
  const T = 'tn_http';
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  test('setup', async () => {
    const { store, dataDir } = get();
    app = await buildHttpApp(httpDeps(store, testConfig(dataDir)), [authRoutes, userRoutes, subscriberRoutes]);
    admin = await sessionFor(app, store, 'administrator');
    await makeTenant(store, T);
    await makeTenant(store, 'tn_other');
    const acc = await createAccount(store, system, { tenantId: T, name: 'crm-http', password: 'a-long-password-1' });
    apiKey = (await createApiKey(store, system, { tenantId: T, accountId: acc.id })).key;
    const other = await createAccount(store, system, { tenantId: 'tn_other', name: 'crm-other', password: 'a-long-password-1' });
    otherKey = (await createApiKey(store, system, { tenantId: 'tn_other', accountId: other.id })).key;
  });

  test('lists: create, read, validate, and another tenant\'s key sees 404', async () => {
    const res = await admin.request('POST', `/api/v1/tenants/${T}/lists`, { name: '月度账单', doubleOptIn: false });
    assert.equal(res.statusCode, 201, res.body);
    listId = res.json().id;
    assert.equal((await admin.request('POST', `/api/v1/tenants/${T}/lists`, { name: '月度账单' })).statusCode, 409);
    const bad = await admin.request('POST', `/api/v1/tenants/${T}/lists`, { name: 'x', extra: 1 });
    assert.equal(bad.statusCode, 400);
    const list = await app.inject({ method: 'GET', url: `/api/v1/tenants/${T}/lists`, headers: bearer(apiKey) });
    assert.equal(list.json().items[0].name, '月度账单');
    const other = await app.inject({ method: 'GET', url: `/api/v1/tenants/${T}/lists/${listId}`, headers: bearer(otherKey) });
    assert.equal(other.statusCode, 404);
  });

  test('a business system subscribes and unsubscribes; the status shows at once', async () => {
    const sub = await app.inject({ method: 'POST', url: `/api/v1/tenants/${T}/lists/${listId}/subscribe`, headers: bearer(apiKey), payload: { email: 'Wu@Example.test', name: '吴', attributes: { card: 'gold' } } });
    assert.equal(sub.statusCode, 201, sub.body);
    assert.equal(sub.json().status, 'subscribed');
    const again = await app.inject({ method: 'POST', url: `/api/v1/tenants/${T}/lists/${listId}/subscribe`, headers: bearer(apiKey), payload: { email: 'wu@example.test' } });
    assert.equal(again.statusCode, 200);
    const invalidEmail = await app.inject({ method: 'POST', url: `/api/v1/tenants/${T}/lists/${listId}/subscribe`, headers: bearer(apiKey), payload: { email: 'nope' } });
    assert.equal(invalidEmail.statusCode, 400);
    assert.match(invalidEmail.json().detail, /has no @/);
    const un = await app.inject({ method: 'POST', url: `/api/v1/tenants/${T}/unsubscribe`, headers: bearer(apiKey), payload: { email: 'wu@example.test' } });
    assert.deepEqual(un.json(), { changed: 1 });
    const s = await app.inject({ method: 'GET', url: `/api/v1/tenants/${T}/subscribers/${encodeURIComponent('wu@example.test')}`, headers: bearer(apiKey) });
    assert.equal(s.json().memberships[0].status, 'unsubscribed');
    const patched = await admin.request('PATCH', `/api/v1/tenants/${T}/subscribers/${s.json().id}`, { attributes: { card: null, tier: 2 } });
    assert.deepEqual(patched.json().attributes, { tier: 2 });
  });

  test('import: create, upload as a stream, progress by id, per-line errors; export neutralises formulas', async () => {
    const created = await app.inject({ method: 'POST', url: `/api/v1/tenants/${T}/lists/${listId}/imports`, headers: bearer(apiKey), payload: { format: 'csv', fileName: 'm.csv' } });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json().id;
    assert.equal(created.json().status, 'pending', 'waiting for its file');
    const csv = 'email,姓名,note\nli@example.test,李,=1+2\nbad,x,y\nzhou@example.test,周,ok\n';
    const up = await app.inject({ method: 'PUT', url: `/api/v1/tenants/${T}/imports/${id}/file`, headers: { ...bearer(apiKey), 'content-type': 'text/csv' }, payload: csv });
    assert.equal(up.statusCode, 200, up.body);
    assert.deepEqual([up.json().imported, up.json().errorCount], [2, 1]);
    const progress = await admin.request('GET', `/api/v1/tenants/${T}/imports/${id}`);
    assert.equal(progress.json().status, 'completed');
    assert.deepEqual(progress.json().errors, [{ line: 3, reason: '"bad" has no @' }]);
    const twice = await app.inject({ method: 'PUT', url: `/api/v1/tenants/${T}/imports/${id}/file`, headers: { ...bearer(apiKey), 'content-type': 'text/csv' }, payload: csv });
    assert.equal(twice.statusCode, 409, 'an import runs once');
    assert.match(twice.json().detail, /the import has completed/);

    const created2 = await admin.request('POST', `/api/v1/tenants/${T}/lists/${listId}/imports`, { format: 'csv' });
    const empty = await app.inject({ method: 'PUT', url: `/api/v1/tenants/${T}/imports/${created2.json().id}/file`, headers: { ...bearer(apiKey), 'content-type': 'text/csv' }, payload: 'name\n张三\n' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.json().detail, /no email column/);

    const exp = await app.inject({ method: 'GET', url: `/api/v1/tenants/${T}/lists/${listId}/export?format=csv`, headers: bearer(apiKey) });
    assert.equal(exp.statusCode, 200);
    assert.match(String(exp.headers['content-type']), /text\/csv/);
    assert.match(String(exp.headers['content-disposition']), /filename\*=UTF-8''%E6%9C%88/);
    assert.match(exp.body, /li@example\.test,李,subscribed,[^,]+,[^,]+,'=1\+2/);
    const members = await app.inject({ method: 'GET', url: `/api/v1/tenants/${T}/lists/${listId}/members?status=subscribed&limit=1`, headers: bearer(apiKey) });
    assert.equal(members.json().items.length, 1);
    assert.ok(members.json().nextAfter);
  });

  test('an auditor reads but cannot write', async () => {
    const { store } = get();
    const auditor = await sessionFor(app, store, 'auditor');
    assert.equal((await auditor.request('GET', `/api/v1/tenants/${T}/lists/${listId}`)).statusCode, 200);
    assert.equal((await auditor.request('POST', `/api/v1/tenants/${T}/lists`, { name: 'nope' })).statusCode, 403);
  });
});

describeEachEngine('double opt-in confirmation', (get) => {
  test('the confirm link confirms in one click; forged, expired or stale links change nothing', async () => {
    const { store, dataDir } = get();
    const app = await buildHttpApp(httpDeps(store, testConfig(dataDir)), [authRoutes, userRoutes, subscriberRoutes], {}, [subscriberPublicRoutes]);
    const admin = await sessionFor(app, store, 'administrator');
    await makeTenant(store, 'tn_doi');
    const list = (await admin.request('POST', '/api/v1/tenants/tn_doi/lists', { name: '理财早报', doubleOptIn: true })).json();
    const sub = await admin.request('POST', `/api/v1/tenants/tn_doi/lists/${list.id}/subscribe`, { email: 'he@example.test' });
    assert.equal(sub.json().status, 'unconfirmed');
    const url = new URL(sub.json().confirmUrl);
    assert.equal(url.origin, 'http://localhost:8080');
    const token = url.pathname.split('/').pop()!;

    const forged = await app.inject({ method: 'GET', url: `/s/confirm/${token.slice(0, -3)}AAA` });
    assert.equal(forged.statusCode, 400);
    assert.match(forged.body, /此确认链接无效或已过期/);
    assert.equal((await getSubscriber(store, system, 'tn_doi', { email: 'he@example.test' })).memberships[0]?.status, 'unconfirmed');

    const ok = await app.inject({ method: 'GET', url: url.pathname, headers: { 'accept-language': 'en-GB' } });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /your subscription to &#34;理财早报&#34; is confirmed/);
    assert.equal((await getSubscriber(store, system, 'tn_doi', { email: 'he@example.test' })).memberships[0]?.status, 'subscribed');
    const ops = await store.db.selectFrom('operation_log').select(['operator']).where('operation', '=', 'subscriber.confirm').execute();
    assert.deepEqual(ops.map((o) => o.operator), ['recipient:he@example.test']);

    await unsubscribe(store, system, { tenantId: 'tn_doi', email: 'he@example.test' });
    const stale = await app.inject({ method: 'GET', url: url.pathname });
    assert.equal(stale.statusCode, 200);
    assert.equal((await getSubscriber(store, system, 'tn_doi', { email: 'he@example.test' })).memberships[0]?.status, 'unsubscribed', 'an old link does not undo an unsubscribe');

    const secret = await getPlatformSecret(store);
    const expired = confirmationUrl('https://x.test', secret, { tenantId: 'tn_doi', listId: list.id, subscriberId: sub.json().subscriber.id }, Date.now() - CONFIRM_TTL_MS - 1);
    assert.equal((await app.inject({ method: 'GET', url: new URL(expired).pathname })).statusCode, 400);
  });
});

describeEachEngine('import upload over a real socket', (get) => {
  test('a refused file is answered with a problem, not a reset connection; a good one imports', async () => {
    const { store, dataDir } = get();
    const app = await buildHttpApp(httpDeps(store, testConfig(dataDir)), [authRoutes, userRoutes, subscriberRoutes]);
    await makeTenant(store, 'tn_sock');
    const acc = await createAccount(store, system, { tenantId: 'tn_sock', name: 'crm-sock', password: 'a-long-password-1' });
    const key = (await createApiKey(store, system, { tenantId: 'tn_sock', accountId: acc.id })).key;
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const list = await (await fetch(`${base}/api/v1/tenants/tn_sock/lists`, { method: 'POST', headers, body: JSON.stringify({ name: 'sock' }) })).json() as { id: string };
      const start = async () => (await (await fetch(`${base}/api/v1/tenants/tn_sock/lists/${list.id}/imports`, { method: 'POST', headers, body: JSON.stringify({ format: 'csv' }) })).json() as { id: string }).id;
      // Header refused at once while a 2 MB body is still arriving.
      const bad = `name,city\n${'张三,上海\n'.repeat(150_000)}`;
      const refused = await fetch(`${base}/api/v1/tenants/tn_sock/imports/${await start()}/file`, { method: 'PUT', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' }, body: bad });
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { detail: string }).detail, /no email column/);
      const good = await fetch(`${base}/api/v1/tenants/tn_sock/imports/${await start()}/file`, { method: 'PUT', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' }, body: 'email\na@x.test\nb@x.test\n' });
      assert.equal(good.status, 200);
      assert.equal(((await good.json()) as { imported: number }).imported, 2);
    } finally {
      await app.close();
    }
  });
});
