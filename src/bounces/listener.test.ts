import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import { createTenant } from '../tenants/service.ts';
import { createDomain } from '../domains/service.ts';
import { getPlatformSecret } from '../store/platform-secret.ts';
import { newId } from '../core/ids.ts';
import type { Actor } from '../audit/log.ts';
import type { Store } from '../store/store.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { Postfix, postfixAvailable } from '../testing/postfix.ts';
import { startBounceListener } from './listener.ts';
import { submissionCertificate } from '../delivery/submission/tls.ts';
import type { BounceListener } from './listener.ts';
import type { InboundResult } from './inbound.ts';
import { encodeVerp } from './verp.ts';
import { suppressionCheck } from './suppressions.ts';

const admin: Actor = { operator: 'admin', clientIp: '127.0.0.1', role: 'administrator' };

/** A plain SMTP conversation over a socket: each command's reply (all lines), in order. */
async function converse(port: number, commands: string[]): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let buffer = '';
  const waiters: ((reply: string) => void)[] = [];
  const replies: string[] = [];
  socket.on('data', (d: string) => {
    buffer += d;
    // A reply ends with a line "NNN text" (space, not dash, after the code).
    let m: RegExpExecArray | null;
    while ((m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\n/.exec(buffer))) {
      buffer = buffer.slice(m[0].length);
      const w = waiters.shift();
      if (w) w(m[0].trim());
      else replies.push(m[0].trim());
    }
  });
  const next = () => new Promise<string>((resolve) => {
    const ready = replies.shift();
    if (ready !== undefined) resolve(ready);
    else waiters.push(resolve);
  });
  const out: string[] = [];
  await next(); // greeting
  for (const c of commands) {
    socket.write(c + '\r\n');
    out.push(await next());
  }
  socket.end();
  return out;
}

function dsnFor(rcpt: string, verp: string, status = '5.1.1', diag = '550 5.1.1 user unknown'): string {
  return [
    'From: MAILER-DAEMON@mx.far.example', `To: ${verp}`, 'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="XX"', '',
    '--XX', 'Content-Type: text/plain', '', `<${rcpt}>: host mx.far.example said: ${diag}`, '',
    '--XX', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.far.example', '',
    `Final-Recipient: rfc822; ${rcpt}`, 'Action: failed', `Status: ${status}`, `Diagnostic-Code: smtp; ${diag}`, '',
    '--XX--', '',
  ].join('\r\n');
}

async function sendData(port: number, from: string, to: string, body: string): Promise<string[]> {
  // Dot-stuffing: a line starting with "." gets another.
  const data = body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  return converse(port, ['EHLO test.example', `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA', `${data}\r\n.`, 'QUIT']);
}

async function sentMessage(store: Store, tenantId: string, recipient: string): Promise<{ messageId: string; recipientId: string }> {
  const now = Date.now();
  const messageId = newId('msg', now);
  const recipientId = newId('rc', now);
  await store.db.insertInto('delivery_messages').values({
    id: messageId, tenant_id: tenantId, account_id: 'ac_test', lane: 'bulk', mail_from: 'news@cards.bank.example', from_domain: 'cards.bank.example',
    body: Buffer.from('Subject: hi\r\n\r\nhi\r\n'), size: 20, header_message_id: `<${messageId}@cards.bank.example>`, source: 'api', recipient_count: 1, created_at: now,
  }).execute();
  await store.db.insertInto('delivery_recipients').values({
    id: recipientId, message_id: messageId, tenant_id: tenantId, account_id: 'ac_test', lane: 'bulk', recipient, domain: recipient.split('@')[1] ?? '',
    state: 'delivered', attempts: 1, first_queued_at: now, next_attempt_at: now, lease_owner: null, lease_expires_at: null, site: null,
    last_reply_code: 250, last_text: '250 ok', updated_at: now,
  }).execute();
  return { messageId, recipientId };
}

describeEachEngine('bounce listener', (get) => {
  let listener: BounceListener;
  let secret: Buffer;
  let tenantId = '';
  const processed: InboundResult[] = [];
  const waitProcessed = async (count: number, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    while (processed.length < count) {
      if (Date.now() > until) throw new Error(`only ${processed.length} of ${count} inbound messages processed`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return processed[count - 1]!;
  };

  test('setup', async () => {
    const { store } = get();
    tenantId = (await createTenant(store, admin, { name: 'Cards' })).id;
    await createDomain(store, admin, { tenantId, domain: 'cards.bank.example' });
    secret = await getPlatformSecret(store);
    listener = await startBounceListener(store, { host: '127.0.0.1', port: 0, secret, onProcessed: (r) => processed.push(r), softBounces: { threshold: 2, windowDays: 7 } });
  });

  test('a DSN to a VERP address is stored, linked to the message and recipient, and suppresses a hard bounce', async () => {
    const { store } = get();
    const ref = await sentMessage(store, tenantId, 'gone@far.example');
    const verp = encodeVerp(ref, 'bounces.cards.bank.example', secret);
    const replies = await sendData(listener.port, '', verp, dsnFor('gone@far.example', verp));
    assert.match(replies[2] ?? '', /^250/, 'RCPT accepted');
    assert.match(replies[4] ?? '', /^250 .*classified/);
    const result = await waitProcessed(1);
    assert.deepEqual(result.events.map((e) => [e.recipient, e.reason, e.hard, e.linkedBy, e.suppressed, e.messageId, e.recipientId]), [
      ['gone@far.example', 'userunknown', true, 'verp', 'hard_bounce', ref.messageId, ref.recipientId],
    ]);
    const stored = await store.db.selectFrom('inbound_messages').selectAll().where('id', '=', result.inboundId).executeTakeFirstOrThrow();
    assert.equal(stored.parse_status, 'classified');
    assert.equal(Buffer.from(stored.raw).toString('utf8').includes('Final-Recipient: rfc822; gone@far.example'), true);
    assert.equal((await suppressionCheck(store.db, tenantId, ['gone@far.example'])).get('gone@far.example'), 'hard_bounce');
  });

  test('soft bounces count toward the threshold', async () => {
    const { store } = get();
    for (let i = 0; i < 2; i++) {
      const ref = await sentMessage(store, tenantId, 'full@far.example');
      const verp = encodeVerp(ref, 'bounces.cards.bank.example', secret);
      await sendData(listener.port, '', verp, dsnFor('full@far.example', verp, '4.2.2', '452 4.2.2 Mailbox full'));
    }
    const second = await waitProcessed(3);
    assert.equal(second.events[0]?.reason, 'mailboxfull');
    assert.equal(second.events[0]?.suppressed, 'soft_bounce_threshold');
  });

  test('mail for a non-VERP address, a forged VERP address or a foreign domain is refused', async () => {
    const ref = { messageId: newId('msg'), recipientId: newId('rc') };
    const good = encodeVerp(ref, 'bounces.cards.bank.example', secret);
    const local = good.split('@')[0] ?? '';
    // Same shape, one tag character changed: the signature no longer verifies.
    const forged = `${local.slice(0, -1)}${local.endsWith('a') ? 'b' : 'a'}@bounces.cards.bank.example`;
    const replies = await converse(listener.port, [
      'EHLO test.example', 'MAIL FROM:<>',
      'RCPT TO:<someone@bounces.cards.bank.example>',
      `RCPT TO:<${forged}>`,
      `RCPT TO:<${good.replace('bounces.cards.bank.example', 'other.example')}>`,
      'RCPT TO:<victim@gmail.example>',
      'QUIT',
    ]);
    assert.match(replies[2] ?? '', /^550 5\.1\.1 No such mailbox/);
    assert.match(replies[3] ?? '', /^550 5\.1\.1 Unknown bounce address/);
    assert.match(replies[4] ?? '', /^554 5\.7\.1 Relay access denied/);
    assert.match(replies[5] ?? '', /^554 5\.7\.1 Relay access denied/);
  });

  test('an ARF complaint to the abuse mailbox is linked through the original\'s Return-Path and suppresses', async () => {
    const { store } = get();
    const ref = await sentMessage(store, tenantId, 'angry@isp.example');
    const verp = encodeVerp(ref, 'bounces.cards.bank.example', secret);
    const arf = [
      'From: fbl@isp.example', 'To: abuse@cards.bank.example', 'Subject: FBL', 'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=feedback-report; boundary="F"', '',
      '--F', 'Content-Type: text/plain', '', 'complaint', '',
      '--F', 'Content-Type: message/feedback-report', '', 'Feedback-Type: abuse', 'Version: 1', '',
      '--F', 'Content-Type: message/rfc822', '', `Return-Path: <${verp}>`, 'From: news@cards.bank.example', 'To: angry@isp.example', 'Subject: offer', '', 'buy', '',
      '--F--', '',
    ].join('\r\n');
    const replies = await sendData(listener.port, 'fbl@isp.example', 'abuse@cards.bank.example', arf);
    assert.match(replies[4] ?? '', /^250/);
    const result = await waitProcessed(4);
    assert.deepEqual(result.events.map((e) => [e.recipient, e.reason, e.linkedBy, e.suppressed, e.recipientId]), [['angry@isp.example', 'feedback', 'headers', 'complaint', ref.recipientId]]);
    assert.equal((await suppressionCheck(store.db, tenantId, ['angry@isp.example'])).get('angry@isp.example'), 'complaint');
  });

  test('malformed MIME is stored and reported as unparseable, and the listener keeps working', async () => {
    const { store } = get();
    const ref = { messageId: newId('msg'), recipientId: newId('rc') };
    const verp = encodeVerp(ref, 'bounces.cards.bank.example', secret);
    const broken = 'Content-Type: multipart/report; boundary="never-closed"\r\n\r\n--never-closed\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n';
    const replies = await sendData(listener.port, '', verp, broken);
    assert.match(replies[4] ?? '', /^250 .*unparseable/);
    const result = await waitProcessed(5);
    assert.equal(result.parseStatus, 'unparseable');
    const stored = await store.db.selectFrom('inbound_messages').select(['parse_status', 'summary']).where('id', '=', result.inboundId).executeTakeFirstOrThrow();
    assert.equal(stored.parse_status, 'unparseable');
    assert.match(stored.summary, /unparseable/);
    // Still answering.
    const again = await converse(listener.port, ['EHLO x.example', 'QUIT']);
    assert.match(again[0] ?? '', /^250/);
  });

  test('a DSN written by a real Postfix for an unknown user comes back and suppresses that address', { skip: postfixAvailable() ? false : 'needs Debian postfix (scripts/setup-postfix.sh) and root' }, async () => {
    const { store } = get();
    const postfix = await Postfix.start({ domain: 'mx.fanout.test', mailboxes: ['user'], bounceTo: { host: '127.0.0.1', port: listener.port } });
    try {
      const ref = await sentMessage(store, tenantId, 'nobody@mx.fanout.test');
      const verp = encodeVerp(ref, 'bounces.cards.bank.example', secret);
      const before = processed.length;
      // Postfix takes the message for an unknown user on its accept-all port, then bounces it to the VERP return path.
      const replies = await sendData(postfix.acceptAllPort, verp, 'nobody@mx.fanout.test', `From: news@cards.bank.example\r\nTo: nobody@mx.fanout.test\r\nMessage-ID: <${ref.messageId}@cards.bank.example>\r\nSubject: statement\r\n\r\nhello\r\n`);
      assert.match(replies[4] ?? '', /^250/, `Postfix accepted the message: ${replies.join(' | ')}`);
      const result = await waitProcessed(before + 1, 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${postfix.log().slice(-3000)}`);
      });
      assert.equal(result.kind, 'bounce');
      assert.deepEqual(result.events.map((e) => [e.recipient, e.reason, e.hard, e.linkedBy, e.recipientId]), [['nobody@mx.fanout.test', 'userunknown', true, 'verp', ref.recipientId]]);
      assert.equal((await suppressionCheck(store.db, tenantId, ['nobody@mx.fanout.test'])).get('nobody@mx.fanout.test'), 'hard_bounce');
    } finally {
      await postfix.stop();
    }
  });

  test('STARTTLS is offered when the listener has a certificate, and a DSN over TLS is processed', async () => {
    const { store, dataDir } = get();
    const plainEhlo = await converse(listener.port, ['EHLO test.example', 'QUIT']);
    assert.doesNotMatch(plainEhlo[1] ?? '', /STARTTLS/, 'no certificate, no STARTTLS');
    const tls = await submissionCertificate({ dataDir, hostname: 'bounces.fanout.test', certFile: null, keyFile: null });
    const secured = await startBounceListener(store, { host: '127.0.0.1', port: 0, secret, tls, onProcessed: (r) => processed.push(r) });
    try {
      const ref = await sentMessage(store, tenantId, 'tls-gone@far.example');
      const verp = encodeVerp(ref, 'bounces.cards.bank.example', secret);
      const before = processed.length;
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: secured.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
      const info = await transport.sendMail({ envelope: { from: '', to: [verp] }, raw: dsnFor('tls-gone@far.example', verp).replace(/\r?\n/g, '\r\n') });
      transport.close();
      assert.match(info.response, /^250 .*classified/);
      const result = await waitProcessed(before + 1);
      assert.deepEqual(result.events.map((e) => [e.recipient, e.linkedBy, e.suppressed]), [['tls-gone@far.example', 'verp', 'hard_bounce']]);
    } finally {
      await secured.close();
    }
  });

  test('teardown', async () => {
    await listener.close();
  });
});
