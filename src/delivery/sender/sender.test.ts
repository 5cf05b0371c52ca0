import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { describeEachEngine } from '../../testing/stores.ts';
import { SmtpSink } from '../../testing/smtp-sink.ts';
import type { Store } from '../../store/store.ts';
import { enqueueMessages } from '../queue/enqueue.ts';
import type { EnqueueItem } from '../queue/enqueue.ts';
import { queryDeliveryEvents } from '../queue/events.ts';
import { makeSender } from '../../testing/senders.ts';
import type { SenderFixture } from '../../testing/senders.ts';
import { sampleMessage } from '../../testing/smtp-dialog.ts';
import type { Lane } from '../tables.ts';
import { resetBetweenTests, startTestSender, until } from '../../testing/sender-harness.ts';
import { decodeVerp, verpReturnPath } from '../../bounces/verp.ts';
import { getPlatformSecret } from '../../store/platform-secret.ts';
import type { Harness } from '../../testing/sender-harness.ts';

const MINUTE = 60_000;

function item(f: SenderFixture, to: string[], lane: Lane = 'transactional', subject = 'Notice'): EnqueueItem {
  return { tenantId: f.tenantId, accountId: f.account.id, lane, mailFrom: `notices@${f.domain}`, recipients: to.map((email) => ({ email })), raw: Buffer.from(sampleMessage(`notices@${f.domain}`, to[0]!, subject)) };
}

async function rowOf(store: Store, recipientId: string) {
  return store.db.selectFrom('delivery_recipients').selectAll().where('id', '=', recipientId).executeTakeFirstOrThrow();
}

async function eventsFor(store: Store, recipient: string) {
  return (await queryDeliveryEvents(store.db, { recipient })).events.reverse();
}

describeEachEngine('sender', (get) => {
  let sink: SmtpSink;
  let f: SenderFixture;
  let h: Harness | null = null;
  let clock = Date.now();
  const now = () => clock;

  before(async () => {
    sink = await SmtpSink.start({ starttls: false });
    f = await makeSender(get().store, { name: 'sender-acct', domain: 'notices.bank.test' });
  });
  afterEach(async () => {
    // Each test starts from an empty queue.
    await resetBetweenTests(get().store, sink, h);
    h = null;
  });
  after(async () => {
    await sink.close();
  });

  test('250: delivered once per recipient, DKIM-signed (relaxed/relaxed), VERP return path, events with reply, MX host and site', async () => {
    const { store } = get();
    const secret = await getPlatformSecret(store);
    const [res] = await enqueueMessages(store, [item(f, ['alice@example.org', 'bob@example.net'])]);
    h = await startTestSender(store, sink.port, { returnPath: verpReturnPath(secret) });
    await sink.waitForMessages(2);
    await until(async () => (await rowOf(store, res!.recipientIds[1]!)).state === 'delivered' && (await rowOf(store, res!.recipientIds[0]!)).state === 'delivered');
    for (const m of sink.messages) {
      assert.equal(m.recipients.length, 1);
      const head = m.raw.toString('latin1').split('\r\n\r\n')[0]!;
      assert.match(head, /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=notices\.bank\.test;/);
      // One return path per (message, recipient), on the domain's return-path domain.
      assert.match(m.mailFrom, /@bounces\.notices\.bank\.test$/);
      const ref = decodeVerp(m.mailFrom, secret);
      assert.equal(ref?.messageId, res!.messageId);
      assert.equal(ref?.recipientId, res!.recipientIds[m.recipients[0] === 'alice@example.org' ? 0 : 1]);
    }
    const ev = await eventsFor(store, 'alice@example.org');
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.outcome, 'delivered');
    assert.equal(ev[0]!.replyCode, 250);
    assert.equal(ev[0]!.mxHost, '127.0.0.1');
    assert.equal(ev[0]!.site, `127.0.0.1:${sink.port}`);
    assert.equal(ev[0]!.tenantId, f.tenantId);
    assert.equal(ev[0]!.accountId, f.account.id);
    assert.equal(ev[0]!.messageId, res!.messageId);
    const bodies = await store.db.selectFrom('delivery_messages').select('id').where('id', '=', res!.messageId).execute();
    assert.equal(bodies.length, 1, 'the body is stored once for both recipients');
  });

  test('a session takes its next message as soon as the reply is in, while the result is still being committed', async () => {
    const { store } = get();
    const to = ['s1@example.org', 's2@example.org', 's3@example.org', 's4@example.org', 's5@example.org'];
    const queued = await enqueueMessages(store, to.map((t) => item(f, [t])));
    // One session (two ready slots): with the results' commit held back, every message still
    // reaches the sink only if a slot frees when its reply arrives.
    h = await startTestSender(store, sink.port, { limits: { maxConnections: 1, messagesPerConnection: 100, messagesPerMinute: 0 } });
    const queue = h.sender.queue;
    const complete = queue.complete.bind(queue);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let held = 0;
    queue.complete = async (completions) => {
      held++;
      await gate;
      return complete(completions);
    };
    try {
      await sink.waitForMessages(5, 10_000);
      await until(() => held >= 1, 5000, 'a result write');
      for (const q of queued) assert.equal((await rowOf(store, q.recipientIds[0]!)).state, 'queued', 'nothing committed while the write is held');
    } finally {
      open();
    }
    await until(async () => (await Promise.all(queued.map((q) => rowOf(store, q.recipientIds[0]!)))).every((r) => r.state === 'delivered'));
  });

  test('the byte budget: a claim keeps the messages that fit and hands the rest back unattempted', async () => {
    const { store } = get();
    const to = Array.from({ length: 8 }, (_, i) => `heavy${i}@example.org`);
    for (const t of to) sink.setRule(t, { slowMs: 60 });
    const queued = await enqueueMessages(store, to.map((t) => item(f, [t])));
    // Every message is over a 1-byte budget: each claim keeps one and returns the other.
    h = await startTestSender(store, sink.port, { batchSize: 2, maxInFlightBytes: 1, limits: { maxConnections: 8, messagesPerConnection: 100, messagesPerMinute: 0 } });
    const sender = h.sender;
    let sending = 0;
    let most = 0;
    const send = h.egress.send.bind(h.egress);
    h.egress.send = async (job) => {
      most = Math.max(most, ++sending);
      try {
        return await send(job);
      } finally {
        sending--;
      }
    };
    await until(async () => (await Promise.all(queued.map((q) => rowOf(store, q.recipientIds[0]!)))).every((r) => r.state === 'delivered'));
    assert.equal(most, 1, 'one message on the wire at a time');
    assert.ok(sender.stats.postponed > 0, 'rows over the budget were handed back');
    for (const q of queued) {
      const row = await rowOf(store, q.recipientIds[0]!);
      assert.equal(row.attempts, 1, 'handing back spends no attempt');
      assert.deepEqual((await eventsFor(store, row.recipient)).map((e) => e.outcome), ['delivered']);
    }
  });

  test('the byte budget counts a message once for all its recipients', async () => {
    const { store } = get();
    const to = ['one@example.org', 'two@example.org', 'three@example.org'];
    const [res] = await enqueueMessages(store, [item(f, to)]);
    const size = (await store.db.selectFrom('delivery_messages').select('size').where('id', '=', res!.messageId).executeTakeFirstOrThrow()).size;
    // Room for the message once but not three times: all three recipients go in one claim.
    h = await startTestSender(store, sink.port, { batchSize: 10, maxInFlightBytes: size + 1 });
    await until(async () => (await Promise.all(res!.recipientIds.map((id) => rowOf(store, id)))).every((r) => r.state === 'delivered'));
    assert.equal(h.sender.stats.postponed, 0, 'no recipient handed back');
  });

  test('450 and 451 4.7.x defer on the retry schedule; the retry at the scheduled time delivers', async () => {
    const { store } = get();
    clock = Date.now();
    sink.setRule('later', 'defer-450');
    sink.setRule('slowdown', 'ratelimit-451');
    const [a, b] = await enqueueMessages(store, [item(f, ['later@example.org']), item(f, ['slowdown@example.org'])], { now: clock });
    h = await startTestSender(store, sink.port, { now });
    await until(async () => (await rowOf(store, a!.recipientIds[0]!)).attempts === 1 && (await rowOf(store, b!.recipientIds[0]!)).attempts === 1);
    for (const [id, code, status] of [[a!.recipientIds[0]!, 450, '4.2.1'], [b!.recipientIds[0]!, 451, '4.7.1']] as const) {
      const row = await rowOf(store, id);
      assert.equal(row.state, 'queued');
      assert.equal(row.next_attempt_at, clock + 5 * MINUTE, 'first retry after 5 minutes');
      const ev = (await queryDeliveryEvents(store.db, { messageId: row.message_id })).events;
      assert.deepEqual(ev.map((e) => [e.outcome, e.replyCode, e.enhancedStatus]), [['deferred', code, status]]);
    }
    sink.rules.clear();
    clock += 5 * MINUTE;
    h.sender.wake();
    await until(async () => (await rowOf(store, a!.recipientIds[0]!)).state === 'delivered' && (await rowOf(store, b!.recipientIds[0]!)).state === 'delivered');
    assert.deepEqual((await eventsFor(store, 'later@example.org')).map((e) => [e.outcome, e.attempt]), [['deferred', 1], ['delivered', 2]]);
  });

  test('550 5.1.1 and 552 5.2.2 fail permanently at once, with the reason class', async () => {
    const { store } = get();
    sink.setRule('nobody', 'unknown-550');
    sink.setRule('full', 'full-552');
    const classify = (r: { replyCode: number | null; status: string | null }) => ({ reason: r.status === '5.1.1' ? 'userunknown' : r.status === '5.2.2' ? 'mailboxfull' : 'undefined' });
    const [a, b] = await enqueueMessages(store, [item(f, ['nobody@example.org']), item(f, ['full@example.org'])]);
    h = await startTestSender(store, sink.port, { classify });
    await until(async () => (await rowOf(store, a!.recipientIds[0]!)).state === 'failed' && (await rowOf(store, b!.recipientIds[0]!)).state === 'failed');
    const e1 = await eventsFor(store, 'nobody@example.org');
    assert.deepEqual(e1.map((e) => [e.outcome, e.replyCode, e.enhancedStatus, e.reason]), [['failed', 550, '5.1.1', 'userunknown']]);
    const e2 = await eventsFor(store, 'full@example.org');
    assert.deepEqual(e2.map((e) => [e.outcome, e.replyCode, e.enhancedStatus, e.reason]), [['failed', 552, '5.2.2', 'mailboxfull']]);
    assert.equal(sink.counters.messages, 0);
  });

  test('421 and a connection dropped mid-DATA defer; a slow server still delivers', async () => {
    const { store } = get();
    clock = Date.now();
    sink.setRule('busy', 'close-421');
    sink.setRule('dropper', 'drop-data');
    sink.setRule('sloth', { slowMs: 400 });
    const [a, b, c] = await enqueueMessages(store, [item(f, ['busy@example.org']), item(f, ['dropper@example.org']), item(f, ['sloth@example.org'])], { now: clock });
    h = await startTestSender(store, sink.port, { now });
    await until(async () => (await rowOf(store, c!.recipientIds[0]!)).state === 'delivered', 10_000, 'slow delivery');
    await until(async () => (await rowOf(store, a!.recipientIds[0]!)).attempts === 1 && (await rowOf(store, b!.recipientIds[0]!)).attempts === 1);
    const busy = await eventsFor(store, 'busy@example.org');
    assert.deepEqual(busy.map((e) => [e.outcome, e.replyCode]), [['deferred', 421]]);
    const dropped = await eventsFor(store, 'dropper@example.org');
    assert.equal(dropped[0]!.outcome, 'deferred');
    assert.equal((await rowOf(store, b!.recipientIds[0]!)).state, 'queued');
  });

  test('a site in back-off holds its mail without spending attempts', async () => {
    const { store } = get();
    // A "you are blocked for a while" reply suspends the site (Gmail's 4.7.28).
    sink.setRule('limited', { code: 451, enhanced: '4.7.28', text: 'Unusual rate of unsolicited mail originating from your IP' });
    const [a] = await enqueueMessages(store, [item(f, ['limited@example.org'])]);
    h = await startTestSender(store, sink.port, { throttle: { suspendMs: 10 * MINUTE } });
    await until(async () => (await rowOf(store, a!.recipientIds[0]!)).attempts === 1);
    const [b] = await enqueueMessages(store, [item(f, ['fine@example.org'])]);
    await until(async () => (await rowOf(store, b!.recipientIds[0]!)).site !== null, 5000, 'postponed row');
    const row = await rowOf(store, b!.recipientIds[0]!);
    assert.equal(row.state, 'queued');
    assert.equal(row.attempts, 0, 'no attempt spent while the site is suspended');
    assert.ok(row.next_attempt_at > Date.now() + 9 * MINUTE, 'due again when the suspension ends');
    assert.equal((await eventsFor(store, 'fine@example.org')).length, 0);
  });

  test('expiry: a deferral past the maximum age ends as expired', async () => {
    const { store } = get();
    clock = Date.now();
    sink.setRule('never', 'defer-450');
    const [a] = await enqueueMessages(store, [item(f, ['never@example.org'])], { now: clock });
    h = await startTestSender(store, sink.port, { now, retry: { initialMinutes: 30, factor: 2, maxIntervalMinutes: 60, maxAgeHours: 1 } });
    await until(async () => (await rowOf(store, a!.recipientIds[0]!)).attempts === 1);
    // The last retry is pulled in to the deadline; after it the recipient expires.
    clock += 30 * MINUTE;
    h.sender.wake();
    await until(async () => (await rowOf(store, a!.recipientIds[0]!)).attempts === 2);
    assert.equal((await rowOf(store, a!.recipientIds[0]!)).next_attempt_at, clock + 30 * MINUTE);
    clock += 30 * MINUTE;
    h.sender.wake();
    await until(async () => (await rowOf(store, a!.recipientIds[0]!)).state === 'expired');
    const ev = await eventsFor(store, 'never@example.org');
    assert.deepEqual(ev.map((e) => e.outcome), ['deferred', 'deferred', 'expired']);
    assert.equal(ev[2]!.reason, 'expired');
    assert.match(ev[2]!.text ?? '', /last reply: .*4\.2\.1/);
  });
});
