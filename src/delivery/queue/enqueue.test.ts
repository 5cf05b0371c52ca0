import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { addSuppression } from '../../bounces/suppressions.ts';
import type { AppError } from '../../core/errors.ts';
import { describeEachEngine } from '../../testing/stores.ts';
import { enqueueMessages } from './enqueue.ts';
import type { EnqueueItem } from './enqueue.ts';
import { queryDeliveryEvents } from './events.ts';
import { makeSender, TEST_ADMIN } from '../../testing/senders.ts';
import type { SenderFixture } from '../../testing/senders.ts';
import { GroupCommitQueue } from './group-commit.ts';
import { suppressionCheck } from '../../bounces/suppressions.ts';

describeEachEngine('enqueue and group commit', (get) => {
  let f: SenderFixture;
  let q: SenderFixture;
  const raw = Buffer.from('Subject: s\r\n\r\nbody\r\n');
  const item = (who: SenderFixture, to: string[]): EnqueueItem => ({ tenantId: who.tenantId, accountId: who.account.id, lane: 'bulk', mailFrom: `x@${who.domain}`, recipients: to.map((email) => ({ email })), raw });

  before(async () => {
    f = await makeSender(get().store, { name: 'enq-acct', domain: 'enq.test' });
    q = await makeSender(get().store, { name: 'enq-quota', domain: 'enqq.test', quota: 5 });
  });

  test('the HTTP path is all or nothing: a quota overrun stores nothing and reserves nothing', async () => {
    const { store } = get();
    await assert.rejects(enqueueMessages(store, [item(q, ['a@x.test', 'b@x.test']), item(q, ['c@x.test', 'd@x.test', 'e@x.test', 'f@x.test'])]), (e: AppError) => e.kind === 'quota_exceeded');
    const n = await store.db.selectFrom('delivery_recipients').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', q.account.id).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 0);
    const acc = await store.db.selectFrom('sending_accounts').select('used').where('id', '=', q.account.id).executeTakeFirstOrThrow();
    assert.equal(Number(acc.used), 0);
  });

  test('bad input is refused before anything is written', async () => {
    const { store } = get();
    await assert.rejects(enqueueMessages(store, [item(f, [])]), (e: AppError) => e.kind === 'validation');
    await assert.rejects(enqueueMessages(store, [item(f, ['not-an-address'])]), (e: AppError) => e.kind === 'validation');
  });

  test('group commit: many concurrent submissions share few transactions; over-quota ones alone are refused', async () => {
    const { store } = get();
    const commits = new GroupCommitQueue(store);
    const outcomes = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => commits.submit(item(f, [`g${i}@x.test`]))),
      ...Array.from({ length: 7 }, (_, i) => commits.submit(item(q, [`q${i}@x.test`]))),
    ]);
    assert.ok(commits.batches < 47 / 2, `${commits.batches} transactions for 47 messages`);
    assert.equal(outcomes.slice(0, 40).filter((o) => o.ok).length, 40);
    const quota = outcomes.slice(40);
    assert.equal(quota.filter((o) => o.ok).length, 5, 'the quota of 5 is used exactly');
    assert.deepEqual(quota.filter((o) => !o.ok).map((o) => !o.ok && o.reason), ['quota_exceeded', 'quota_exceeded']);
    const stored = await store.db.selectFrom('delivery_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', q.account.id).executeTakeFirstOrThrow();
    assert.equal(Number(stored.n), 5);
    await assert.rejects(commits.submit(item(f, [])), (e: AppError) => e.kind === 'validation');
  });

  test('suppressed recipients are dropped before sending, with the reason in the delivery log', async () => {
    const { store } = get();
    await addSuppression(store, TEST_ADMIN, { tenantId: f.tenantId, address: 'gone@x.test', reason: 'hard_bounce' });
    const [res] = await enqueueMessages(store, [item(f, ['Gone@x.test', 'here@x.test'])], { suppression: suppressionCheck });
    const rows = await store.db.selectFrom('delivery_recipients').select(['recipient', 'state']).where('message_id', '=', res!.messageId).orderBy('recipient').execute();
    assert.deepEqual(rows.map((r) => [r.recipient, r.state]), [['Gone@x.test', 'suppressed'], ['here@x.test', 'queued']]);
    const ev = (await queryDeliveryEvents(store.db, { messageId: res!.messageId })).events;
    assert.deepEqual(ev.map((e) => [e.recipient, e.outcome, e.reason]), [['Gone@x.test', 'failed', 'suppressed']]);
    assert.match(ev[0]!.text ?? '', /hard_bounce/);
  });

  test('delivery log queries: by recipient, message, status and time, paginated newest first', async () => {
    const { store } = get();
    await enqueueMessages(store, [item(f, ['gone@x.test']), item(f, ['gone@x.test'])], { suppression: suppressionCheck });
    const page1 = await queryDeliveryEvents(store.db, { outcome: 'failed', limit: 2 });
    assert.equal(page1.events.length, 2);
    assert.ok(page1.events[0]!.id > page1.events[1]!.id, 'newest first');
    const page2 = await queryDeliveryEvents(store.db, { outcome: 'failed', limit: 2, cursor: page1.nextCursor });
    assert.equal(page2.events.length, 1);
    assert.equal(page2.nextCursor, null);
    assert.ok(page2.events[0]!.id < page1.events[1]!.id);
    assert.equal((await queryDeliveryEvents(store.db, { recipient: 'Gone@x.test', from: 0, to: Date.now() + 1000 })).events.length, 1);
    assert.equal((await queryDeliveryEvents(store.db, { recipient: 'Gone@x.test', from: Date.now() + 1000 })).events.length, 0);
    assert.equal((await queryDeliveryEvents(store.db, { tenantId: q.tenantId, recipient: 'Gone@x.test' })).events.length, 0, 'tenant scope');
    await assert.rejects(queryDeliveryEvents(store.db, { outcome: 'bogus' }), (e: AppError) => e.kind === 'validation');
  });
});
