import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import nodemailer from 'nodemailer';
import { describeEachEngine } from '../../testing/stores.ts';
import type { Store } from '../../store/store.ts';
import { makeSender } from '../../testing/senders.ts';
import type { SenderFixture } from '../../testing/senders.ts';
import { startSubmissionServer } from './server.ts';
import type { SubmissionOptions, SubmissionServer } from './server.ts';
import { SmtpDialog, sampleMessage } from '../../testing/smtp-dialog.ts';

const DELAY = 150;

function options(dataDir: string, extra: Partial<SubmissionOptions> = {}): SubmissionOptions {
  return {
    host: '127.0.0.1', port: 0, implicitTlsPort: 0, hostname: 'submit.fanout.test', maxMessageBytes: 10_000,
    tlsCertFile: null, tlsKeyFile: null, authFailureDelayMs: DELAY, authLockoutFailures: 3, authLockoutSeconds: 60, dataDir, ...extra,
  };
}

async function queued(store: Store, accountId: string): Promise<{ messages: number; recipients: number }> {
  const m = await store.db.selectFrom('delivery_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  const r = await store.db.selectFrom('delivery_recipients').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  return { messages: Number(m.n), recipients: Number(r.n) };
}

async function session(server: SubmissionServer, auth?: SenderFixture): Promise<SmtpDialog> {
  const c = await SmtpDialog.connect(server.port);
  await c.greeting;
  await c.command('EHLO client.test');
  if (auth) assert.match(await c.authPlain(auth.account.name, auth.password), /^235/);
  return c;
}

describeEachEngine('smtp submission', (get) => {
  let server: SubmissionServer;
  let a: SenderFixture;
  let b: SenderFixture;

  before(async () => {
    const { store, dataDir } = get();
    a = await makeSender(store, { name: 'cards', domain: 'cards.bank.test' });
    b = await makeSender(store, { name: 'broker', domain: 'broker.test' });
    server = await startSubmissionServer(store, options(dataDir));
  });
  after(async () => {
    await server.close();
  });

  test('EHLO offers SIZE, 8BITMIME, SMTPUTF8, PIPELINING, STARTTLS and AUTH PLAIN LOGIN', async () => {
    const c = await SmtpDialog.connect(server.port);
    assert.match(await c.greeting, /^220 /);
    const ehlo = await c.command('EHLO client.test');
    for (const ext of ['SIZE 10000', '8BITMIME', 'SMTPUTF8', 'PIPELINING', 'STARTTLS', 'AUTH PLAIN LOGIN']) assert.ok(ehlo.includes(ext), `${ext} in ${ehlo}`);
    c.close();
  });

  test('refuses relaying without AUTH from an address no account allows; nothing is queued', async () => {
    const c = await session(server);
    assert.match(await c.command(`MAIL FROM:<x@${a.domain}>`), /^530 5\.7\.0 /);
    assert.match(await c.command('RCPT TO:<someone@example.org>'), /^5\d\d /);
    c.close();
    assert.deepEqual(await queued(get().store, a.account.id), { messages: 0, recipients: 0 });
  });

  test('a wrong password is answered 535 5.7.8 after the delay, and the user+address is locked out', async () => {
    const { store } = get();
    const victim = await makeSender(store, { name: 'locked-user', domain: 'locked.test' });
    const c = await session(server);
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      assert.match(await c.authPlain(victim.account.name, 'wrong password'), /^535 5\.7\.8 /);
      assert.ok(Date.now() - started >= DELAY - 10, 'failure answered after the configured delay');
    }
    // Even the right password is refused while the lock-out lasts.
    const locked = await c.authPlain(victim.account.name, victim.password);
    assert.match(locked, /^454 4\.7\.0 .*try again in \d+ seconds/);
    c.close();
    // Another user from the same address is not affected.
    const other = await session(server, a);
    other.close();
  });

  test('refuses an envelope sender whose domain belongs to another tenant, or to nobody', async () => {
    const c = await session(server, a);
    assert.match(await c.command(`MAIL FROM:<ceo@${b.domain}>`), /^553 5\.7\.1 .*not a sending domain/);
    assert.match(await c.command('MAIL FROM:<ceo@unregistered.test>'), /^553 5\.7\.1 /);
    c.close();
    assert.deepEqual(await queued(get().store, a.account.id), { messages: 0, recipients: 0 });
  });

  test('refuses oversize messages at MAIL (SIZE=) and at the end of DATA; nothing is queued', async () => {
    const c = await session(server, a);
    assert.match(await c.command(`MAIL FROM:<x@${a.domain}> SIZE=20000`), /^552 /);
    assert.match(await c.command(`MAIL FROM:<x@${a.domain}>`), /^250/);
    assert.match(await c.command('RCPT TO:<big@example.org>'), /^250/);
    const reply = await c.data(sampleMessage(`x@${a.domain}`, 'big@example.org', 'Big', `${'x'.repeat(998)}\r\n`.repeat(15)));
    assert.match(reply, /^552 /);
    c.close();
    assert.deepEqual(await queued(get().store, a.account.id), { messages: 0, recipients: 0 });
  });

  test('accepts an authenticated message: 250 after commit, body stored once, Received and Message-ID added', async () => {
    const { store } = get();
    const c = await session(server, a);
    assert.match(await c.command(`MAIL FROM:<statements@${a.domain}>`), /^250/);
    assert.match(await c.command('RCPT TO:<one@example.org>'), /^250/);
    assert.match(await c.command('RCPT TO:<two@example.net>'), /^250/);
    const reply = await c.data(sampleMessage(`statements@${a.domain}`, 'one@example.org', '月结单 Statement'));
    const id = /^250 2\.0\.0 Ok: queued as (msg_\w+)/.exec(reply)?.[1];
    assert.ok(id, reply);
    c.close();
    const msg = await store.db.selectFrom('delivery_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const body = Buffer.from(msg.body).toString('utf8');
    assert.match(body, /^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby submit\.fanout\.test \(Fanout\) with ESMTPA id msg_/);
    assert.match(body, /\r\nMessage-ID: <msg_\w+\.[0-9a-f]+@cards\.bank\.test>\r\n/);
    assert.equal(msg.header_message_id?.startsWith('<msg_'), true);
    const rows = await store.db.selectFrom('delivery_recipients').selectAll().where('message_id', '=', id).orderBy('recipient').execute();
    assert.deepEqual(rows.map((r) => [r.recipient, r.domain, r.state, r.lane]), [['one@example.org', 'example.org', 'queued', 'transactional'], ['two@example.net', 'example.net', 'queued', 'transactional']]);
  });

  test('quota: RCPT beyond the remaining quota gets 452 4.7.1; a DATA that loses the race is refused and not stored', async () => {
    const { store } = get();
    const q = await makeSender(store, { name: 'quota-user', domain: 'quota.test', quota: 3 });
    const c = await session(server, q);
    assert.match(await c.command(`MAIL FROM:<x@${q.domain}>`), /^250/);
    for (const r of ['a', 'b', 'c']) assert.match(await c.command(`RCPT TO:<${r}@example.org>`), /^250/);
    assert.match(await c.command('RCPT TO:<d@example.org>'), /^452 4\.7\.1 .*quota/);
    c.command('RSET');
    await c.reply();
    // Two sessions each see 3 left; the first to commit wins, the second gets 452 at DATA.
    const s1 = await session(server, q);
    const s2 = await session(server, q);
    for (const s of [s1, s2]) {
      assert.match(await s.command(`MAIL FROM:<x@${q.domain}>`), /^250/);
      assert.match(await s.command('RCPT TO:<a@example.org>'), /^250/);
      assert.match(await s.command('RCPT TO:<b@example.org>'), /^250/);
    }
    assert.match(await s1.data(sampleMessage(`x@${q.domain}`, 'a@example.org')), /^250 /);
    assert.match(await s2.data(sampleMessage(`x@${q.domain}`, 'a@example.org')), /^452 4\.7\.1 .*quota/);
    s1.close();
    s2.close();
    c.close();
    assert.deepEqual(await queued(store, q.account.id), { messages: 1, recipients: 2 });
    const acc = await store.db.selectFrom('sending_accounts').select('used').where('id', '=', q.account.id).executeTakeFirstOrThrow();
    assert.equal(Number(acc.used), 2);
  });

  test('per-account connection limit and message rate', async () => {
    const { store } = get();
    const r = await makeSender(store, { name: 'rate-user', domain: 'rate.test', maxConnections: 1, messagesPerMinute: 1 });
    const first = await session(server, r);
    const second = await SmtpDialog.connect(server.port);
    await second.greeting;
    await second.command('EHLO c');
    assert.match(await second.authPlain(r.account.name, r.password), /^421 4\.7\.0 Too many connections/);
    assert.match(await first.command(`MAIL FROM:<x@${r.domain}>`), /^250/);
    assert.match(await first.command('RSET'), /^250/);
    assert.match(await first.command(`MAIL FROM:<x@${r.domain}>`), /^451 4\.7\.1 .*rate limit/);
    first.close();
  });

  test('an allow-listed client address submits without AUTH, for its own tenant domains only', async () => {
    const { store } = get();
    const trusted = await makeSender(store, { name: 'core-banking', domain: 'core.bank.test', allowIps: ['127.0.0.1/32'], password: null });
    const c = await session(server);
    assert.match(await c.command(`MAIL FROM:<x@${a.domain}>`), /^553 5\.7\.1 /);
    assert.match(await c.command(`MAIL FROM:<alerts@${trusted.domain}>`), /^250/);
    assert.match(await c.command('RCPT TO:<c@example.org>'), /^250/);
    assert.match(await c.data(sampleMessage(`alerts@${trusted.domain}`, 'c@example.org')), /^250 /);
    c.close();
    assert.deepEqual(await queued(store, trusted.account.id), { messages: 1, recipients: 1 });
    // Leave no allow-listed loopback account behind for the other tests of this store.
    await store.db.updateTable('sending_accounts').set({ allow_ips: '[]' }).where('id', '=', trusted.account.id).execute();
  });

  test('PIPELINING: MAIL, RCPT and DATA sent in one write are answered 250, 250, 354 and the message is queued', async () => {
    const { store } = get();
    const before = await queued(store, a.account.id);
    const c = await session(server, a);
    const codes = (replies: string[]) => replies.map((r) => r.slice(0, 3));
    const transaction = async (i: number) => {
      const group = await c.pipeline([`MAIL FROM:<pipe@${a.domain}>`, `RCPT TO:<pipe${i}@example.org>`, 'DATA']);
      assert.deepEqual(codes(group), ['250', '250', '354']);
      const done = await c.body(sampleMessage(`pipe@${a.domain}`, `pipe${i}@example.org`));
      assert.deepEqual(codes([done]), ['250']);
    };
    for (let i = 0; i < 6; i++) await transaction(i);
    c.close();
    const after = await queued(store, a.account.id);
    assert.equal(after.messages - before.messages, 6);
  });

  test('STARTTLS and implicit TLS with AUTH LOGIN and PLAIN (nodemailer as the client)', async () => {
    for (const [port, secure, method] of [[server.port, false, 'LOGIN'], [server.implicitTlsPort!, true, 'PLAIN']] as const) {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure, requireTLS: !secure, authMethod: method, auth: { user: a.account.name, pass: a.password }, tls: { rejectUnauthorized: false } });
      const info = await transport.sendMail({ envelope: { from: `tls@${a.domain}`, to: ['tls@example.org'] }, raw: sampleMessage(`tls@${a.domain}`, 'tls@example.org') });
      assert.match(info.response, /^250 2\.0\.0 Ok: queued as msg_/);
      transport.close();
    }
  });
});

describeEachEngine('smtp submission without TLS from outside loopback', (get) => {
  test('AUTH in clear is refused with 538 5.7.11 when insecure auth is not allowed', async () => {
    const { store, dataDir } = get();
    const a = await makeSender(store, { name: 'clear', domain: 'clear.test' });
    const server = await startSubmissionServer(store, options(dataDir, { implicitTlsPort: null, allowInsecureAuth: false }));
    try {
      const c = await SmtpDialog.connect(server.port);
      await c.greeting;
      await c.command('EHLO c');
      assert.match(await c.authPlain(a.account.name, a.password), /^538 5\.7\.11 /);
      c.close();
    } finally {
      await server.close();
    }
  });
});
