import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Actor } from '../audit/log.ts';
import { AppError } from '../core/errors.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { createList, deleteList, getList, listLists, updateList } from './lists.ts';
import { confirmSubscription, getSubscriber, isSubscribed, listMembers, subscribe, unsubscribe, updateSubscriber } from './subscribers.ts';
import { makeTenant, operator } from '../testing/subscribers.ts';

const kind = (k: string) => (err: unknown) => err instanceof AppError && err.kind === k;

describeEachEngine('lists and subscribers', (get) => {
  test('lists: create, rename, counts, duplicates refused, tenant isolation, audit', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_a');
    await makeTenant(store, 'tn_b');
    const list = await createList(store, operator, { tenantId: 'tn_a', name: ' 信用卡客户 ', description: 'card holders' });
    assert.equal(list.name, '信用卡客户');
    assert.deepEqual(list.counts, { subscribed: 0, unconfirmed: 0, unsubscribed: 0, bounced: 0, complained: 0 });
    await assert.rejects(createList(store, operator, { tenantId: 'tn_a', name: '信用卡客户' }), kind('conflict'));
    await assert.rejects(createList(store, operator, { tenantId: 'tn_a', name: '  ' }), kind('validation'));
    await assert.rejects(createList(store, operator, { tenantId: 'tn_missing', name: 'x' }), kind('not_found'));
    const other = await createList(store, operator, { tenantId: 'tn_b', name: '信用卡客户' });
    const confined: Actor = { ...operator, tenantId: 'tn_b' };
    await assert.rejects(getList(store, confined, 'tn_a', list.id), kind('forbidden'));
    await assert.rejects(getList(store, operator, 'tn_b', list.id), kind('not_found'), 'a list id from another tenant is not found');
    const auditor: Actor = { operator: 'audit', clientIp: '10.0.0.9', role: 'auditor' };
    await assert.rejects(createList(store, auditor, { tenantId: 'tn_a', name: 'y' }), kind('forbidden'));
    assert.equal((await listLists(store, auditor, 'tn_a')).length, 1);
    const renamed = await updateList(store, operator, { tenantId: 'tn_a', listId: list.id, name: 'Card holders', doubleOptIn: true });
    assert.equal(renamed.doubleOptIn, true);
    const log = await store.db.selectFrom('operation_log').select(['operation', 'object_id']).orderBy('id').execute();
    assert.deepEqual(log.map((l) => l.operation), ['list.create', 'list.create', 'list.update']);
    await deleteList(store, operator, { tenantId: 'tn_b', listId: other.id });
    assert.equal((await listLists(store, operator, 'tn_b')).length, 0);
  });

  test('subscribe, double opt-in, unsubscribe everywhere, complaint outranks unsubscribe', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_s');
    const news = await createList(store, operator, { tenantId: 'tn_s', name: 'news' });
    const doi = await createList(store, operator, { tenantId: 'tn_s', name: 'offers', doubleOptIn: true });
    const a = await subscribe(store, operator, { tenantId: 'tn_s', listId: news.id, email: ' Zhang.San@Example.TEST ', name: '张三', attributes: { city: '上海', tier: 'gold' } });
    assert.equal(a.subscriber.email, 'zhang.san@example.test');
    assert.equal(a.status, 'subscribed');
    assert.equal(a.added, true);
    const b = await subscribe(store, operator, { tenantId: 'tn_s', listId: doi.id, email: 'zhang.san@example.test', attributes: { tier: null, age: 30 } });
    assert.equal(b.status, 'unconfirmed');
    assert.deepEqual(b.subscriber.attributes, { city: '上海', age: 30 }, 'attributes merge; null removes');
    assert.equal(b.subscriber.name, '张三', 'an absent name keeps the stored one');
    assert.equal(await isSubscribed(store, 'tn_s', doi.id, 'zhang.san@example.test'), false);
    assert.equal(await confirmSubscription(store, operator, { tenantId: 'tn_s', listId: doi.id, subscriberId: a.subscriber.id }), 'subscribed');
    assert.equal(await isSubscribed(store, 'tn_s', doi.id, 'ZHANG.SAN@example.test'), true);

    assert.equal(await unsubscribe(store, operator, { tenantId: 'tn_s', email: 'zhang.san@example.test', source: 'one-click' }), 2);
    assert.equal(await isSubscribed(store, 'tn_s', news.id, 'zhang.san@example.test'), false);
    assert.equal(await unsubscribe(store, operator, { tenantId: 'tn_s', email: 'zhang.san@example.test' }), 0, 'idempotent');
    // An old confirmation link must not undo the unsubscribe.
    assert.equal(await confirmSubscription(store, operator, { tenantId: 'tn_s', listId: doi.id, subscriberId: a.subscriber.id }), 'unsubscribed');
    assert.equal(await unsubscribe(store, operator, { tenantId: 'tn_s', email: 'nobody@example.test' }), 0, 'unknown address: no error');
    assert.equal(await unsubscribe(store, operator, { tenantId: 'tn_s', subscriberId: a.subscriber.id, listId: news.id, status: 'complained' }), 1);
    assert.equal(await unsubscribe(store, operator, { tenantId: 'tn_s', subscriberId: a.subscriber.id }), 0, 'complained stays complained');
    const sub = await getSubscriber(store, operator, 'tn_s', { email: 'zhang.san@example.test' });
    assert.deepEqual(sub.memberships.map((m) => [m.listId, m.status]).sort(), [[doi.id, 'unsubscribed'], [news.id, 'complained']].sort());
    // Subscribing again is explicit consent and brings the address back.
    const again = await subscribe(store, operator, { tenantId: 'tn_s', listId: doi.id, email: 'zhang.san@example.test', status: 'subscribed' });
    assert.equal(again.previousStatus, 'unsubscribed');
    assert.equal(again.status, 'subscribed');
    const ops = await store.db.selectFrom('operation_log').select('operation').where('tenant_id', '=', 'tn_s').orderBy('id').execute();
    assert.deepEqual(ops.map((o) => o.operation), ['list.create', 'list.create', 'subscriber.subscribe', 'subscriber.subscribe', 'subscriber.confirm', 'subscriber.unsubscribe', 'subscriber.complained', 'subscriber.subscribe']);
  });

  test('bad input changes nothing', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_v');
    const l = await createList(store, operator, { tenantId: 'tn_v', name: 'v' });
    for (const email of ['', 'no-at-sign', 'a@b', 'a..b@x.test', 'a b@x.test', 'a@-x.test', `${'x'.repeat(65)}@x.test`]) {
      await assert.rejects(subscribe(store, operator, { tenantId: 'tn_v', listId: l.id, email }), kind('validation'), email);
    }
    await assert.rejects(subscribe(store, operator, { tenantId: 'tn_v', listId: l.id, email: 'ok@x.test', attributes: [1] as never }), kind('validation'));
    await assert.rejects(subscribe(store, operator, { tenantId: 'tn_v', listId: 'ls_nope', email: 'ok@x.test' }), kind('not_found'));
    const count = await store.db.selectFrom('subscribers').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', 'tn_v').executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 0);
    await assert.rejects(updateSubscriber(store, operator, { tenantId: 'tn_v', subscriberId: 999999 }), kind('not_found'));
  });

  test('members page in id order with keyset pagination', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_p');
    const l = await createList(store, operator, { tenantId: 'tn_p', name: 'p' });
    for (let i = 0; i < 5; i++) await subscribe(store, operator, { tenantId: 'tn_p', listId: l.id, email: `u${i}@x.test` });
    await unsubscribe(store, operator, { tenantId: 'tn_p', email: 'u2@x.test' });
    const p1 = await listMembers(store, operator, { tenantId: 'tn_p', listId: l.id, status: 'subscribed', limit: 2 });
    assert.deepEqual(p1.items.map((m) => m.email), ['u0@x.test', 'u1@x.test']);
    const p2 = await listMembers(store, operator, { tenantId: 'tn_p', listId: l.id, status: 'subscribed', limit: 2, after: p1.nextAfter! });
    assert.deepEqual(p2.items.map((m) => m.email), ['u3@x.test', 'u4@x.test']);
    const p3 = await listMembers(store, operator, { tenantId: 'tn_p', listId: l.id, status: 'subscribed', limit: 2, after: p2.nextAfter! });
    assert.deepEqual(p3, { items: [], nextAfter: null });
    assert.equal((await getList(store, operator, 'tn_p', l.id)).counts.unsubscribed, 1);
  });
});
