import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Actor } from '../../audit/log.ts';
import type { AppError } from '../../core/errors.ts';
import { describeEachEngine } from '../../testing/stores.ts';
import { SmtpSink } from '../../testing/smtp-sink.ts';
import type { Store } from '../../store/store.ts';
import { cancelBulk, pauseBulk, resumeBulk } from '../queue/control.ts';
import { enqueueMessages } from '../queue/enqueue.ts';
import type { EnqueueItem } from '../queue/enqueue.ts';
import { queryDeliveryEvents } from '../queue/events.ts';
import { makeSender, TEST_ADMIN } from '../../testing/senders.ts';
import type { SenderFixture } from '../../testing/senders.ts';
import { sampleMessage } from '../../testing/smtp-dialog.ts';
import type { Lane } from '../tables.ts';
import { resetBetweenTests, startTestSender, until } from '../../testing/sender-harness.ts';
import type { Harness } from '../../testing/sender-harness.ts';

function items(f: SenderFixture, lane: Lane, to: string[]): EnqueueItem[] {
  return to.map((email) => ({ tenantId: f.tenantId, accountId: f.account.id, lane, mailFrom: `news@${f.domain}`, recipients: [{ email }], raw: Buffer.from(sampleMessage(`news@${f.domain}`, email, lane)) }));
}

async function states(store: Store, ids: string[]): Promise<string[]> {
  const rows = await store.db.selectFrom('delivery_recipients').select(['id', 'state']).where('id', 'in', ids).execute();
  return ids.map((id) => rows.find((r) => r.id === id)!.state);
}

describeEachEngine('lanes, pause, resume, cancel', (get) => {
  let sink: SmtpSink;
  let f: SenderFixture;
  let other: SenderFixture;
  let h: Harness | null = null;

  before(async () => {
    sink = await SmtpSink.start({ starttls: false });
    f = await makeSender(get().store, { name: 'lanes-acct', domain: 'lanes.bank.test', accountType: 'bulk' });
    other = await makeSender(get().store, { name: 'other-acct', domain: 'other.test' });
  });
  afterEach(async () => {
    // Each test starts from an empty queue.
    await resetBetweenTests(get().store, sink, h);
    h = null;
  });
  after(async () => {
    await sink.close();
  });

  test('transactional mail is not queued behind a bulk backlog to the same site', async () => {
    const { store } = get();
    sink.defaultBehaviour = { slowMs: 60 };
    try {
      const bulk = await enqueueMessages(store, items(f, 'bulk', Array.from({ length: 60 }, (_, i) => `b${i}@example.org`)));
      h = await startTestSender(store, sink.port, { limits: { maxConnections: 1, messagesPerConnection: 1000, messagesPerMinute: 0 } });
      await sink.waitForMessages(2);
      const [tx] = await enqueueMessages(store, items(f, 'transactional', ['otp@example.org']));
      h.sender.wake();
      await until(async () => (await states(store, tx!.recipientIds))[0] === 'delivered', 10_000, 'transactional delivery');
      const position = sink.messages.findIndex((m) => m.recipients[0] === 'otp@example.org');
      assert.ok(position >= 0 && position <= 6, `transactional message was number ${position + 1} at the sink, behind at most the bulk already on the wire`);
      const bulkStates = await states(store, bulk.map((b) => b.recipientIds[0]!));
      assert.ok(bulkStates.filter((s) => s === 'queued').length > 40, 'the bulk backlog was still there');
    } finally {
      sink.defaultBehaviour = 'accept';
    }
  });

  test('pausing an account holds its bulk mail only; resume sends it; both are in the operation log', async () => {
    const { store } = get();
    await pauseBulk(store, TEST_ADMIN, 'account', f.account.id);
    const bulk = await enqueueMessages(store, items(f, 'bulk', ['p1@example.org', 'p2@example.org']));
    const [tx] = await enqueueMessages(store, items(f, 'transactional', ['urgent@example.org']));
    h = await startTestSender(store, sink.port);
    await until(async () => (await states(store, tx!.recipientIds))[0] === 'delivered');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await states(store, bulk.map((b) => b.recipientIds[0]!)), ['queued', 'queued']);
    assert.equal(sink.messages.length, 1);
    await resumeBulk(store, TEST_ADMIN, 'account', f.account.id);
    h.sender.wake();
    await until(async () => (await states(store, bulk.map((b) => b.recipientIds[0]!))).every((s) => s === 'delivered'), 5000, 'resumed bulk');
    const ops = await store.db.selectFrom('operation_log').select(['operation', 'object_id', 'operator']).where('operation', 'like', 'delivery.%').execute();
    assert.deepEqual(ops.map((o) => o.operation), ['delivery.pause', 'delivery.resume']);
    assert.equal(ops[0]!.operator, TEST_ADMIN.operator);
  });

  test('pausing a site holds bulk mail for that site only; transactional to the site still goes', async () => {
    const { store } = get();
    const site = `127.0.0.1:${sink.port}`;
    await pauseBulk(store, TEST_ADMIN, 'site', site);
    const bulk = await enqueueMessages(store, items(f, 'bulk', ['s1@example.org']));
    const [tx] = await enqueueMessages(store, items(f, 'transactional', ['s2@example.org']));
    h = await startTestSender(store, sink.port);
    await until(async () => (await states(store, tx!.recipientIds))[0] === 'delivered');
    await new Promise((r) => setTimeout(r, 300));
    const row = await store.db.selectFrom('delivery_recipients').selectAll().where('id', '=', bulk[0]!.recipientIds[0]!).executeTakeFirstOrThrow();
    assert.equal(row.state, 'queued');
    assert.equal(row.attempts, 0);
    assert.equal(row.site, site);
    await resumeBulk(store, TEST_ADMIN, 'site', site);
    h.sender.wake();
    await until(async () => (await states(store, bulk[0]!.recipientIds))[0] === 'delivered', 5000, 'resumed site');
  });

  test('cancel: queued bulk of an account is cancelled with an event each, nothing is sent', async () => {
    const { store } = get();
    await pauseBulk(store, TEST_ADMIN, 'account', f.account.id);
    const bulk = await enqueueMessages(store, items(f, 'bulk', ['c1@example.org', 'c2@example.org', 'c3@example.org']));
    const [tx] = await enqueueMessages(store, items(f, 'transactional', ['c4@example.org']));
    assert.equal(await cancelBulk(store, TEST_ADMIN, 'account', f.account.id), 3);
    await resumeBulk(store, TEST_ADMIN, 'account', f.account.id);
    h = await startTestSender(store, sink.port);
    await until(async () => (await states(store, tx!.recipientIds))[0] === 'delivered');
    assert.deepEqual(await states(store, bulk.map((b) => b.recipientIds[0]!)), ['cancelled', 'cancelled', 'cancelled']);
    assert.deepEqual(sink.messages.map((m) => m.recipients[0]), ['c4@example.org']);
    const ev = (await queryDeliveryEvents(store.db, { outcome: 'cancelled', accountId: f.account.id })).events;
    assert.equal(ev.length, 3);
    assert.equal(ev[0]!.reason, 'cancelled');
  });

  test('tenant operators control their own accounts only; sites are for administrators', async () => {
    const { store } = get();
    const operator: Actor = { operator: 'op', clientIp: '127.0.0.1', role: 'operator', tenantId: other.tenantId };
    await assert.rejects(pauseBulk(store, operator, 'account', f.account.id), (e: AppError) => e.kind === 'not_found');
    await assert.rejects(pauseBulk(store, operator, 'site', 'gmail.com'), (e: AppError) => e.kind === 'forbidden');
    await assert.rejects(cancelBulk(store, TEST_ADMIN, 'tenant', 'x'), (e: AppError) => e.kind === 'validation');
    await pauseBulk(store, operator, 'account', other.account.id);
    assert.equal((await store.db.selectFrom('delivery_pauses').selectAll().execute()).length, 1);
  });
});
