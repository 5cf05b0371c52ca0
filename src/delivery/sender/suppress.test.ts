import assert from 'node:assert/strict';
import { test } from 'node:test';
import { suppressionCheck } from '../../bounces/suppressions.ts';
import { classifySmtpReply } from '../../bounces/smtp-reply.ts';
import { SmtpSink } from '../../testing/smtp-sink.ts';
import { describeEachEngine } from '../../testing/stores.ts';
import { enqueueMessages } from '../queue/enqueue.ts';
import { makeSender } from '../../testing/senders.ts';
import { startTestSender, until } from '../../testing/sender-harness.ts';

const raw = (from: string, to: string) => Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: Notice\r\nMessage-ID: <n-${to}@bank.test>\r\n\r\nYour statement is ready.\r\n`);

describeEachEngine('synchronous hard failures feed the suppression list', (get) => {
  test('550 user unknown at RCPT suppresses the address with its evidence; after DATA, mailbox full and deliveries do not', async () => {
    const { store } = get();
    const sink = await SmtpSink.start({ starttls: false, rules: { gone: 'unknown-550', full: 'full-552', bare: { code: 550, text: 'User unknown' }, content: { code: 550, text: 'User unknown', stage: 'data' } } });
    const f = await makeSender(store, { name: 'sync-hard', domain: 'sync.bank.test' });
    const to = ['gone@client.example', 'full@client.example', 'ok@client.example', 'bare@client.example', 'content@client.example'];
    await enqueueMessages(store, to.map((email) => ({ tenantId: f.tenantId, accountId: f.account.id, lane: 'transactional' as const, mailFrom: `n@${f.domain}`, recipients: [{ email }], raw: raw(`n@${f.domain}`, email) })));
    const h = await startTestSender(store, sink.port, { classify: (r) => classifySmtpReply(r) });
    try {
      await until(async () => (await store.db.selectFrom('delivery_recipients').select('state').where('state', '=', 'queued').execute()).length === 0, 20_000, 'the 5xx replies and the delivery to settle');
      const found = await suppressionCheck(store.db, f.tenantId, to);
      // A refusal at RCPT names the mailbox; the same words after DATA are about the message.
      assert.deepEqual([...found].sort(), [['bare@client.example', 'hard_bounce'], ['gone@client.example', 'hard_bounce']]);
      const reasons = await store.db.selectFrom('delivery_events').select(['recipient', 'reason']).where('outcome', '=', 'failed').orderBy('recipient').execute();
      assert.deepEqual(reasons.map((r) => [r.recipient, r.reason]), [['bare@client.example', 'userunknown'], ['content@client.example', 'filtered'], ['full@client.example', 'mailboxfull'], ['gone@client.example', 'userunknown']]);
      const row = await store.db.selectFrom('suppressions').selectAll().where('address', '=', 'gone@client.example').executeTakeFirstOrThrow();
      assert.equal(row.bounce_reason, 'userunknown');
      assert.equal(row.source, 'smtp');
      assert.match(row.evidence, /5\.1\.1/);
    } finally {
      await h.stop();
      await sink.close();
    }
  });
});
