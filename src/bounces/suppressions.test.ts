import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { describeEachEngine } from '../testing/stores.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import type { Session } from '../testing/http.ts';
import { createTenant } from '../tenants/service.ts';
import { verifyOperationLog } from '../audit/log.ts';
import type { Actor } from '../audit/log.ts';
import { addSuppression, listSuppressions, removeSuppression, suppressionCheck, suppressUnsubscribe } from './suppressions.ts';
import { recordBounceEvent } from './events.ts';
import type { BounceEventInput } from './events.ts';

const admin: Actor = { operator: 'admin', clientIp: '127.0.0.1', role: 'administrator' };

function bounce(over: Partial<BounceEventInput>): BounceEventInput {
  return {
    inboundId: null, tenantId: null, messageId: 'msg_1', recipientId: 'rc_1', recipient: 'x@y.example', kind: 'bounce',
    reason: 'mailboxfull', hard: false, status: '4.2.2', replyCode: '452', diagnostic: 'mailbox full', linkedBy: 'verp', ...over,
  };
}

describeEachEngine('suppression list', (get) => {
  let tenantId = '';
  let other = '';

  test('setup', async () => {
    tenantId = (await createTenant(get().store, admin, { name: 'Cards' })).id;
    other = (await createTenant(get().store, admin, { name: 'Wealth' })).id;
  });

  test('a hard bounce suppresses at once, with the evidence; the check is per tenant and case-insensitive', async () => {
    const { store } = get();
    const r = await store.transaction((trx) => recordBounceEvent(trx, bounce({ tenantId, recipient: 'Gone@Bank.Example', reason: 'userunknown', hard: true, status: '5.1.1', diagnostic: '550 5.1.1 user unknown' })));
    assert.equal(r.suppressed, 'hard_bounce');
    const found = await suppressionCheck(store.db, tenantId, ['GONE@bank.example', 'fine@bank.example']);
    assert.deepEqual([...found], [['GONE@bank.example', 'hard_bounce']]);
    assert.equal((await suppressionCheck(store.db, other, ['gone@bank.example'])).size, 0);
    const list = await listSuppressions(store.db, { tenantId });
    assert.equal(list.total, 1);
    assert.equal(list.items[0]?.bounceReason, 'userunknown');
    assert.equal(list.items[0]?.evidence.status, '5.1.1');
    assert.equal(list.items[0]?.evidence.eventId, r.eventId);
  });

  test('soft bounces suppress only when the threshold is reached within the window', async () => {
    const { store } = get();
    const day = 86_400_000;
    const t0 = Date.UTC(2026, 0, 1);
    const policy = { threshold: 3, windowDays: 7 };
    const soft = (at: number, reason = 'mailboxfull') => store.transaction((trx) => recordBounceEvent(trx, bounce({ tenantId, recipient: 'full@bank.example', at, reason }), policy));
    assert.equal((await soft(t0)).suppressed, null);
    // Eight days later the first one has left the window: still two.
    assert.equal((await soft(t0 + 8 * day)).suppressed, null);
    // Auto-replies are not failures and do not count.
    assert.equal((await soft(t0 + 8 * day + 1, 'vacation')).suppressed, null);
    assert.equal((await soft(t0 + 9 * day)).suppressed, null);
    assert.equal((await soft(t0 + 10 * day)).suppressed, 'soft_bounce_threshold');
    assert.equal((await suppressionCheck(store.db, tenantId, ['full@bank.example'])).get('full@bank.example'), 'soft_bounce_threshold');
  });

  test('a complaint and an unsubscribe suppress; events without a tenant are kept but suppress nothing', async () => {
    const { store } = get();
    const c = await store.transaction((trx) => recordBounceEvent(trx, bounce({ tenantId, recipient: 'angry@isp.example', kind: 'complaint', reason: 'feedback', status: '', replyCode: '' })));
    assert.equal(c.suppressed, 'complaint');
    assert.equal(await suppressUnsubscribe(store.db, tenantId, 'bye@isp.example', { via: 'one-click' }), true);
    assert.equal(await suppressUnsubscribe(store.db, tenantId, 'BYE@isp.example'), false, 'already there');
    const orphan = await store.transaction((trx) => recordBounceEvent(trx, bounce({ recipient: 'who@isp.example', reason: 'userunknown', hard: true })));
    assert.equal(orphan.suppressed, null);
    const reasons = (await listSuppressions(store.db, { tenantId })).items.map((s) => `${s.address}:${s.reason}`).sort();
    assert.deepEqual(reasons, ['angry@isp.example:complaint', 'bye@isp.example:unsubscribe', 'full@bank.example:soft_bounce_threshold', 'gone@bank.example:hard_bounce']);
  });

  test('adding and removing by hand is logged; bad addresses are refused clearly', async () => {
    const { store } = get();
    const s = await addSuppression(store, admin, { tenantId, address: ' <Manual@Bank.Example> ', note: 'customer asked by phone' });
    assert.equal(s.address, 'manual@bank.example');
    assert.equal(s.reason, 'manual');
    await removeSuppression(store, admin, tenantId, 'manual@bank.example');
    await assert.rejects(removeSuppression(store, admin, tenantId, 'manual@bank.example'), /suppression not found/);
    await assert.rejects(addSuppression(store, admin, { tenantId, address: 'not an address' }), /not an e-mail address/);
    await assert.rejects(addSuppression(store, admin, { tenantId: 'tn_missing', address: 'a@b.example' }), /tenant not found/);
    const ops = await store.db.selectFrom('operation_log').select(['operation', 'object_id']).where('object_type', '=', 'suppression').orderBy('id').execute();
    assert.deepEqual(ops, [{ operation: 'suppression.add', object_id: 'manual@bank.example' }, { operation: 'suppression.remove', object_id: 'manual@bank.example' }]);
    assert.equal((await verifyOperationLog(store.db)).ok, true);
  });

  test('search escapes wildcards and filters by reason', async () => {
    const { store } = get();
    await addSuppression(store, admin, { tenantId, address: 'a_b@bank.example' });
    await addSuppression(store, admin, { tenantId, address: 'axb@bank.example' });
    assert.deepEqual((await listSuppressions(store.db, { tenantId, search: 'a_b' })).items.map((s) => s.address), ['a_b@bank.example']);
    assert.deepEqual((await listSuppressions(store.db, { tenantId, reason: 'complaint' })).items.map((s) => s.address), ['angry@isp.example']);
    const page = await listSuppressions(store.db, { tenantId, limit: 2 });
    assert.equal(page.items.length, 2);
    assert.ok(page.total > 2);
  });
});

describeEachEngine('suppression HTTP API', (get) => {
  let app: FastifyInstance;
  let adminSession: Session;
  let operator: Session;
  let tenantId = '';
  let otherTenantId = '';

  test('setup', async () => {
    const { store, dataDir } = get();
    app = await testApp(store, dataDir);
    adminSession = await sessionFor(app, store, 'administrator');
    tenantId = (await adminSession.request('POST', '/api/v1/tenants', { name: 'Statements' })).json().id;
    otherTenantId = (await adminSession.request('POST', '/api/v1/tenants', { name: 'Brokerage' })).json().id;
    operator = await sessionFor(app, store, 'operator', tenantId);
  });

  test('add, list, search, get and remove', async () => {
    const add = await operator.request('POST', `/api/v1/tenants/${tenantId}/suppressions`, { address: 'Client@Bank.Example', note: 'asked' });
    assert.equal(add.statusCode, 201, add.body);
    assert.equal(add.json().address, 'client@bank.example');
    const list = await operator.request('GET', `/api/v1/tenants/${tenantId}/suppressions?search=client`);
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json().items.map((s: { address: string }) => s.address), ['client@bank.example']);
    const one = await operator.request('GET', `/api/v1/tenants/${tenantId}/suppressions/client@bank.example`);
    assert.equal(one.json().reason, 'manual');
    const del = await operator.request('DELETE', `/api/v1/tenants/${tenantId}/suppressions/client@bank.example`);
    assert.equal(del.statusCode, 204);
    assert.equal((await operator.request('GET', `/api/v1/tenants/${tenantId}/suppressions/client@bank.example`)).statusCode, 404);
  });

  test('another tenant\'s list is invisible to an operator, and bad input is a 400', async () => {
    assert.equal((await operator.request('GET', `/api/v1/tenants/${otherTenantId}/suppressions`)).statusCode, 404);
    assert.equal((await operator.request('POST', `/api/v1/tenants/${otherTenantId}/suppressions`, { address: 'a@b.example' })).statusCode, 404);
    const bad = await operator.request('POST', `/api/v1/tenants/${tenantId}/suppressions`, { address: 'nope' });
    assert.equal(bad.statusCode, 400, bad.body);
    const extra = await operator.request('POST', `/api/v1/tenants/${tenantId}/suppressions`, { address: 'a@b.example', evil: 1 });
    assert.equal(extra.statusCode, 400);
  });

  test('teardown', async () => {
    await app.close();
  });
});
