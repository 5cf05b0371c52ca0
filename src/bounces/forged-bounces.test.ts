// Forged and malformed reports sent over real SMTP to a running bounce listener: each one is
// stored raw, and none of them puts an address on any tenant's suppression list unless it is
// tied to a message Fanout sent to that recipient for the tenant whose mailbox received it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import nodemailer from 'nodemailer';
import { CORPUS_DIR } from '../testing/bounce-corpus.ts';
import { mixLineEnds, oversize, reencode, truncate } from '../testing/bounce-variants.ts';
import { createTenant } from '../tenants/service.ts';
import { createDomain } from '../domains/service.ts';
import { getPlatformSecret } from '../store/platform-secret.ts';
import { newId } from '../core/ids.ts';
import type { Actor } from '../audit/log.ts';
import type { Store } from '../store/store.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { startBounceListener } from './listener.ts';
import type { BounceListener } from './listener.ts';
import type { InboundResult } from './inbound.ts';
import { encodeVerp } from './verp.ts';
import { suppressionCheck } from './suppressions.ts';

const admin: Actor = { operator: 'admin', clientIp: '127.0.0.1', role: 'administrator' };

function dsn(to: string, rcpt: string, opts: { status?: string; diag?: string; original?: string } = {}): string {
  const status = opts.status ?? '5.1.1';
  const diag = opts.diag ?? '550 5.1.1 user unknown';
  return [
    'From: MAILER-DAEMON@mx.far.example', `To: ${to}`, 'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="XX"', '',
    '--XX', 'Content-Type: text/plain', '', `<${rcpt}>: host mx.far.example said: ${diag}`, '',
    '--XX', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.far.example', '',
    `Final-Recipient: rfc822; ${rcpt}`, 'Action: failed', `Status: ${status}`, `Diagnostic-Code: smtp; ${diag}`, '',
    ...(opts.original ? ['--XX', 'Content-Type: text/rfc822-headers', '', opts.original, ''] : []),
    '--XX--', '',
  ].join('\r\n');
}

function arf(to: string, complainer: string | null, original: string): string {
  return [
    'From: fbl@isp.example', `To: ${to}`, 'Subject: Abuse report', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="F"', '',
    '--F', 'Content-Type: text/plain', '', 'This is an abuse report.', '',
    '--F', 'Content-Type: message/feedback-report', '', 'Feedback-Type: abuse', 'User-Agent: isp-fbl/1.0', 'Version: 1',
    ...(complainer ? [`Original-Rcpt-To: ${complainer}`] : []), '',
    '--F', 'Content-Type: message/rfc822', '', original, '', 'buy now', '',
    '--F--', '',
  ].join('\r\n');
}

async function sentMessage(store: Store, tenantId: string, recipient: string, fromDomain: string): Promise<{ messageId: string; recipientId: string; header: string }> {
  const now = Date.now();
  const messageId = newId('msg', now);
  const recipientId = newId('rc', now);
  const header = `<${messageId}@${fromDomain}>`;
  await store.db.insertInto('delivery_messages').values({
    id: messageId, tenant_id: tenantId, account_id: 'ac_test', lane: 'bulk', mail_from: `news@${fromDomain}`, from_domain: fromDomain,
    body: Buffer.from('Subject: hi\r\n\r\nhi\r\n'), size: 20, header_message_id: header, source: 'api', recipient_count: 1, created_at: now,
  }).execute();
  await store.db.insertInto('delivery_recipients').values({
    id: recipientId, message_id: messageId, tenant_id: tenantId, account_id: 'ac_test', lane: 'bulk', recipient, domain: recipient.split('@')[1] ?? '',
    state: 'delivered', attempts: 1, first_queued_at: now, next_attempt_at: now, lease_owner: null, lease_expires_at: null, site: null,
    last_reply_code: 250, last_text: '250 ok', updated_at: now,
  }).execute();
  return { messageId, recipientId, header };
}

describeEachEngine('forged bounces and complaints', (get) => {
  let listener: BounceListener;
  let secret: Buffer;
  let tenantA = '';
  let tenantB = '';
  const processed: InboundResult[] = [];

  /** Sends `raw` over SMTP from `from` to `to` and waits for the listener to store it. */
  async function deliver(from: string, to: string, raw: string | Buffer): Promise<InboundResult> {
    const before = processed.length;
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true });
    try {
      const info = await transport.sendMail({ envelope: { from, to: [to] }, raw });
      assert.match(info.response, /^250 /, 'accepted and stored');
    } finally {
      transport.close();
    }
    const until = Date.now() + 20_000;
    while (processed.length === before) {
      if (Date.now() > until) throw new Error('the listener did not process the message');
      await new Promise((r) => setTimeout(r, 20));
    }
    return processed[processed.length - 1]!;
  }

  async function suppressed(tenantId: string, address: string): Promise<string | undefined> {
    return (await suppressionCheck(get().store.db, tenantId, [address])).get(address);
  }

  async function storedRaw(inboundId: string): Promise<string> {
    const row = await get().store.db.selectFrom('inbound_messages').select('raw').where('id', '=', inboundId).executeTakeFirstOrThrow();
    return Buffer.from(row.raw).toString('utf8');
  }

  test('setup', async () => {
    const { store } = get();
    tenantA = (await createTenant(store, admin, { name: 'Cards' })).id;
    tenantB = (await createTenant(store, admin, { name: 'Wealth' })).id;
    await createDomain(store, admin, { tenantId: tenantA, domain: 'cards.bank.example' });
    await createDomain(store, admin, { tenantId: tenantB, domain: 'wealth.bank.example' });
    secret = await getPlatformSecret(store);
    listener = await startBounceListener(store, { host: '127.0.0.1', port: 0, secret, onProcessed: (r) => processed.push(r) });
  });

  test('a DSN to postmaster@ naming any address is stored and recorded, and suppresses nobody', async () => {
    const raw = dsn('postmaster@cards.bank.example', 'victim@customer.example');
    const result = await deliver('', 'postmaster@cards.bank.example', raw);
    assert.deepEqual(result.events.map((e) => [e.recipient, e.reason, e.linkedBy, e.suppressed]), [['victim@customer.example', 'userunknown', 'none', null]]);
    assert.equal(await suppressed(tenantA, 'victim@customer.example'), undefined);
    assert.equal(await storedRaw(result.inboundId), raw);
  });

  test('an ARF to abuse@ naming any address suppresses nobody', async () => {
    const raw = arf('abuse@cards.bank.example', 'victim2@customer.example', 'From: news@cards.bank.example\r\nTo: victim2@customer.example\r\nSubject: offer');
    const result = await deliver('fbl@isp.example', 'abuse@cards.bank.example', raw);
    assert.deepEqual(result.events.map((e) => [e.recipient, e.reason, e.linkedBy, e.suppressed]), [['victim2@customer.example', 'feedback', 'none', null]]);
    assert.equal(await suppressed(tenantA, 'victim2@customer.example'), undefined);
    assert.equal(await storedRaw(result.inboundId), raw);
  });

  test("an ARF to tenant A's abuse mailbox carrying tenant B's Message-ID suppresses nobody in either tenant", async () => {
    const sentByB = await sentMessage(get().store, tenantB, 'client@customer.example', 'wealth.bank.example');
    const raw = arf('abuse@cards.bank.example', 'client@customer.example', `From: news@wealth.bank.example\r\nTo: client@customer.example\r\nMessage-ID: ${sentByB.header}\r\nSubject: statement`);
    const result = await deliver('fbl@isp.example', 'abuse@cards.bank.example', raw);
    assert.deepEqual(result.events.map((e) => [e.recipient, e.linkedBy, e.suppressed, e.messageId]), [['client@customer.example', 'none', null, null]]);
    assert.equal(await suppressed(tenantB, 'client@customer.example'), undefined);
    assert.equal(await suppressed(tenantA, 'client@customer.example'), undefined);
    assert.equal(await storedRaw(result.inboundId), raw);
  });

  test("an ARF with the tenant's own Message-ID naming someone that message was not sent to suppresses nobody", async () => {
    const sent = await sentMessage(get().store, tenantA, 'real@customer.example', 'cards.bank.example');
    const raw = arf('abuse@cards.bank.example', 'other@customer.example', `From: news@cards.bank.example\r\nTo: other@customer.example\r\nMessage-ID: ${sent.header}\r\nSubject: offer`);
    const result = await deliver('fbl@isp.example', 'abuse@cards.bank.example', raw);
    assert.deepEqual(result.events.map((e) => [e.recipient, e.linkedBy, e.suppressed]), [['other@customer.example', 'none', null]]);
    assert.equal(await suppressed(tenantA, 'other@customer.example'), undefined);
    assert.equal(await suppressed(tenantA, 'real@customer.example'), undefined);
  });

  test("an ARF with the tenant's own Message-ID for that very recipient is acted on (the link is real)", async () => {
    const sent = await sentMessage(get().store, tenantA, 'angry@customer.example', 'cards.bank.example');
    const raw = arf('abuse@cards.bank.example', 'angry@customer.example', `From: news@cards.bank.example\r\nTo: angry@customer.example\r\nMessage-ID: ${sent.header}\r\nSubject: offer`);
    const result = await deliver('fbl@isp.example', 'abuse@cards.bank.example', raw);
    assert.deepEqual(result.events.map((e) => [e.recipient, e.linkedBy, e.suppressed, e.recipientId]), [['angry@customer.example', 'message-id', 'complaint', sent.recipientId]]);
    assert.equal(await suppressed(tenantA, 'angry@customer.example'), 'complaint');
  });

  test('a DSN to my own VERP address naming someone else suppresses only the address that VERP address was made for', async () => {
    const mine = await sentMessage(get().store, tenantA, 'attacker@customer.example', 'cards.bank.example');
    const verp = encodeVerp(mine, 'bounces.cards.bank.example', secret);
    const result = await deliver('', verp, dsn(verp, 'victim3@customer.example'));
    assert.deepEqual(result.events.map((e) => [e.recipient, e.linkedBy, e.recipientId]), [['attacker@customer.example', 'verp', mine.recipientId]]);
    assert.equal(await suppressed(tenantA, 'victim3@customer.example'), undefined);
  });

  test('a DSN to my VERP address listing several recipients acts only on the one it was made for', async () => {
    const mine = await sentMessage(get().store, tenantA, 'me@customer.example', 'cards.bank.example');
    const verp = encodeVerp(mine, 'bounces.cards.bank.example', secret);
    const two = dsn(verp, 'me@customer.example').replace('Final-Recipient: rfc822; me@customer.example', 'Final-Recipient: rfc822; victim4@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\nFinal-Recipient: rfc822; me@customer.example');
    const result = await deliver('', verp, two);
    const byAddress = new Map(result.events.map((e) => [e.recipient, [e.linkedBy, e.suppressed]]));
    assert.deepEqual(byAddress.get('victim4@customer.example'), ['none', null]);
    assert.deepEqual(byAddress.get('me@customer.example'), ['verp', 'hard_bounce']);
    assert.equal(await suppressed(tenantA, 'victim4@customer.example'), undefined);
  });

  test("an ARF whose original carries my own VERP Return-Path but names someone else suppresses only me", async () => {
    const mine = await sentMessage(get().store, tenantA, 'sly@customer.example', 'cards.bank.example');
    const verp = encodeVerp(mine, 'bounces.cards.bank.example', secret);
    const raw = arf('abuse@cards.bank.example', 'victim5@customer.example', `Return-Path: <${verp}>\r\nFrom: news@cards.bank.example\r\nTo: victim5@customer.example\r\nSubject: offer`);
    const result = await deliver('fbl@isp.example', 'abuse@cards.bank.example', raw);
    assert.deepEqual(result.events.map((e) => [e.recipient, e.linkedBy]), [['sly@customer.example', 'headers']]);
    assert.equal(await suppressed(tenantA, 'victim5@customer.example'), undefined);
  });

  test("an ARF to tenant B's abuse mailbox carrying tenant A's VERP Return-Path suppresses nobody", async () => {
    const sentByA = await sentMessage(get().store, tenantA, 'crossed@customer.example', 'cards.bank.example');
    const verp = encodeVerp(sentByA, 'bounces.cards.bank.example', secret);
    const raw = arf('abuse@wealth.bank.example', 'crossed@customer.example', `Return-Path: <${verp}>\r\nFrom: news@cards.bank.example\r\nTo: crossed@customer.example\r\nSubject: offer`);
    const result = await deliver('fbl@isp.example', 'abuse@wealth.bank.example', raw);
    assert.deepEqual(result.events.map((e) => [e.recipient, e.linkedBy, e.suppressed]), [['crossed@customer.example', 'none', null]]);
    assert.equal(await suppressed(tenantA, 'crossed@customer.example'), undefined);
    assert.equal(await suppressed(tenantB, 'crossed@customer.example'), undefined);
  });

  test('unlinked soft bounces do not count toward the soft-bounce threshold', async () => {
    const target = 'soft@customer.example';
    for (let i = 0; i < 3; i++) await deliver('', 'postmaster@cards.bank.example', dsn('postmaster@cards.bank.example', target, { status: '4.2.2', diag: '452 4.2.2 mailbox full' }));
    const sent = await sentMessage(get().store, tenantA, target, 'cards.bank.example');
    const verp = encodeVerp(sent, 'bounces.cards.bank.example', secret);
    const real = await deliver('', verp, dsn(verp, target, { status: '4.2.2', diag: '452 4.2.2 mailbox full' }));
    assert.deepEqual(real.events.map((e) => [e.linkedBy, e.suppressed]), [['verp', null]], 'one real soft bounce is below the threshold of 3');
    assert.equal(await suppressed(tenantA, target), undefined);
  });

  test('a malformed DSN to a valid VERP address (recipient ";;;", missing fields) is stored unparseable and classifies nobody', async () => {
    const sent = await sentMessage(get().store, tenantA, 'fine@customer.example', 'cards.bank.example');
    const verp = encodeVerp(sent, 'bounces.cards.bank.example', secret);
    const semicolons = dsn(verp, ';;;');
    const first = await deliver('', verp, semicolons);
    assert.equal(first.parseStatus, 'unparseable');
    assert.deepEqual(first.events, []);
    const noFields = dsn(verp, 'fine@customer.example').replace(/Action: failed\r\nStatus: 5\.1\.1\r\nDiagnostic-Code: [^\r]*\r\n/, '');
    const second = await deliver('', verp, noFields);
    assert.equal(second.parseStatus, 'unparseable');
    assert.deepEqual(second.events, []);
    for (const r of [first, second]) {
      const row = await get().store.db.selectFrom('inbound_messages').select(['parse_status', 'summary']).where('id', '=', r.inboundId).executeTakeFirstOrThrow();
      assert.equal(row.parse_status, 'unparseable');
      assert.match(row.summary, /delivery-status recipient/);
    }
    assert.equal(await storedRaw(first.inboundId), semicolons);
    const events = await get().store.db.selectFrom('bounce_events').select('recipient').where('inbound_id', 'in', [first.inboundId, second.inboundId]).execute();
    assert.deepEqual(events, []);
    assert.equal(await suppressed(tenantA, 'fine@customer.example'), undefined);
  });

  test('damaged and re-encoded real bounces sent to a VERP address are all stored raw, whatever the classifier made of them', async () => {
    const dir = path.join(CORPUS_DIR, 'maildir');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
    const sent = await sentMessage(get().store, tenantA, 'fuzz@customer.example', 'cards.bank.example');
    const verp = encodeVerp(sent, 'bounces.cards.bank.example', secret);
    const variant = fc.oneof(
      fc.tuple(fc.constant('truncate'), fc.double({ min: 0.05, max: 1, noNaN: true })),
      fc.tuple(fc.constantFrom('base64', 'quoted-printable', 'gbk', 'iso-2022-jp'), fc.constant(0)),
      fc.tuple(fc.constant('mixed'), fc.double({ min: 0, max: 1, noNaN: true })),
      fc.tuple(fc.constant('oversized'), fc.double({ min: 0, max: 1, noNaN: true })),
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom(...files), variant, async (file, [how, x]) => {
      const original = fs.readFileSync(path.join(dir, file));
      const raw = how === 'truncate' ? truncate(original, x) : how === 'mixed' ? mixLineEnds(original, [x < 0.5, true, false])
        : how === 'oversized' ? oversize(original, 200_000 + Math.floor(x * 300_000), x < 0.5 ? 'lines' : 'dsn')
        : reencode(original, how as 'base64');
      // SMTP carries lines ending in CRLF; the listener keeps the message as the sender's MTA sent it.
      const wire = raw.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/\r(?!\n)/g, '');
      const body = wire.endsWith('\r\n') ? wire : wire + '\r\n';
      // The bytes as they are (8-bit bounces exist): a string would go out as UTF-8.
      const result = await deliver('', verp, Buffer.from(body, 'latin1'));
      assert.ok(['classified', 'unrecognised', 'unparseable'].includes(result.parseStatus));
      const row = await get().store.db.selectFrom('inbound_messages').select('raw').where('id', '=', result.inboundId).executeTakeFirstOrThrow();
      assert.equal(Buffer.from(row.raw).toString('latin1'), body, `${file} ${how} stored byte for byte`);
      // Whatever a damaged report names, only the address the VERP address was made for is acted on.
      for (const e of result.events) if (e.linkedBy !== 'none') assert.equal(e.recipient, 'fuzz@customer.example');
    // An 8-bit ISO-2022-JP/Shift_JIS bounce always, as a fixed first case.
    }), { numRuns: 12, examples: [['lhost-ezweb-04.eml', ['oversized', 0]]] });
  });

  test('teardown', async () => {
    await listener.close();
  });
});
