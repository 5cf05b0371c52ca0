import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../accounts/apikeys.ts';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { createDomain } from '../domains/service.ts';
import { createTenant } from '../tenants/service.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import type { Session } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';

const admin: Actor = { operator: 'admin', clientIp: '127.0.0.1', role: 'administrator' };

describeEachEngine('delivery log and queue control over HTTP', (get) => {
  let app: FastifyInstance;
  let root: Session;

  test('queue depth, pause and resume, cancel with events, tenant scoping', async () => {
    const { store, dataDir } = get();
    app = await testApp(store, dataDir);
    root = await sessionFor(app, store, 'administrator');
    const tenant = await createTenant(store, admin, { name: 'Retail' });
    const other = await createTenant(store, admin, { name: 'Other' });
    await createDomain(store, admin, { tenantId: tenant.id, domain: 'retail.example' });
    const account = await createAccount(store, admin, { tenantId: tenant.id, name: 'retail-bulk', password: 'long enough' });
    const { key } = await createApiKey(store, admin, { tenantId: tenant.id, accountId: account.id });
    const sent = await app.inject({ method: 'POST', url: '/api/v1/messages', headers: { authorization: `Bearer ${key}` }, payload: { from: 'news@retail.example', subject: 'Hi', text: 'x', stream: 'bulk', recipients: [{ email: 'a@x.example' }, { email: 'b@x.example' }] } });
    assert.equal(sent.statusCode, 202, sent.body);

    const { registerDomainUsageCheck } = await import('../domains/service.ts');
    const { queuedMailFromDomain } = await import('./queue/domain-usage.ts');
    const unregister = registerDomainUsageCheck(queuedMailFromDomain);
    const domainId = (await root.request('GET', '/api/v1/domains')).json().items.find((d: { domain: string }) => d.domain === 'retail.example').id;
    const refused = await root.request('DELETE', `/api/v1/domains/${domainId}`);
    assert.equal(refused.statusCode, 409, refused.body);
    assert.match(refused.json().detail, /2 queued recipient/);
    unregister();
    const queue = (await root.request('GET', '/api/v1/delivery/queue')).json();
    assert.deepEqual(queue.lanes.map((l: { lane: string; queued: number }) => [l.lane, l.queued]), [['bulk', 2]]);

    const op = await sessionFor(app, store, 'operator', tenant.id);
    const stranger = await sessionFor(app, store, 'operator', other.id);
    assert.equal((await stranger.request('POST', '/api/v1/delivery/pause', { scope: 'account', target: account.id })).statusCode, 404);
    assert.equal((await op.request('POST', '/api/v1/delivery/pause', { scope: 'site', target: 'mx.example' })).statusCode, 403);
    assert.equal((await op.request('POST', '/api/v1/delivery/pause', { scope: 'galaxy', target: 'x' })).statusCode, 400);
    assert.equal((await op.request('POST', '/api/v1/delivery/pause', { scope: 'account', target: account.id })).statusCode, 204);
    assert.deepEqual((await root.request('GET', '/api/v1/delivery/queue')).json().pauses.map((p: { scope: string; target: string }) => [p.scope, p.target]), [['account', account.id]]);
    assert.equal((await op.request('POST', '/api/v1/delivery/resume', { scope: 'account', target: account.id })).statusCode, 204);
    assert.deepEqual((await root.request('GET', '/api/v1/delivery/queue')).json().pauses, []);

    const cancel = await op.request('POST', '/api/v1/delivery/cancel', { scope: 'account', target: account.id });
    assert.deepEqual(cancel.json(), { cancelled: 2 });
    const events = (await app.inject({ method: 'GET', url: '/api/v1/delivery/events?outcome=cancelled', headers: { authorization: `Bearer ${key}` } })).json();
    assert.deepEqual(events.items.map((e: { recipient: string }) => e.recipient).sort(), ['a@x.example', 'b@x.example']);
    assert.equal((await stranger.request('GET', '/api/v1/delivery/events')).json().items.length, 0);
    assert.equal((await root.request('GET', '/api/v1/delivery/events?recipient=A@X.example')).json().items.length, 1);
    assert.equal((await root.request('GET', '/api/v1/delivery/events?outcome=lost')).statusCode, 400);
    const log = (await root.request('GET', '/api/v1/operation-log?operation=delivery.')).json().items.map((e: { operation: string }) => e.operation);
    assert.deepEqual(log.sort(), ['delivery.cancel', 'delivery.pause', 'delivery.resume']);
    await app.close();
  });
});
