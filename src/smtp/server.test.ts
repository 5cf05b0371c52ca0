import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SmtpReply } from '../core/smtp-reply.ts';
import { SmtpServer } from './server.ts';
import type { ReceivedData, SmtpServerOptions } from './server.ts';
import { RawSmtp, plainAuth } from '../testing/smtp-test-client.ts';
import { submissionCertificate } from '../delivery/submission/tls.ts';

interface Seen { messages: { from: string; to: string[]; raw: string; body: string; smtputf8: boolean }[]; auth: string[] }

/** A server whose handlers accept everything except the user "bad" and recipients at refused.test. */
async function start(extra: Partial<SmtpServerOptions<null>> = {}): Promise<{ server: SmtpServer<null>; port: number; seen: Seen }> {
  const seen: Seen = { messages: [], auth: [] };
  const server = new SmtpServer<null>({
    name: 'mx.engine.test', maxMessageBytes: 10_000, auth: true,
    handlers: {
      state: () => null,
      async auth(_s, c) {
        seen.auth.push(`${c.method} ${c.username}:${c.password}`);
        if (c.username === 'bad') throw new SmtpReply(535, '5.7.8 Authentication credentials invalid');
        return c.username;
      },
      mailFrom() {},
      rcptTo(_s, p) {
        if (p.address.endsWith('@refused.test')) throw new SmtpReply(550, '5.1.1 No such user');
      },
      async data(s, d: ReceivedData) {
        seen.messages.push({ from: s.mailFrom!.address, to: s.rcptTo.map((r) => r.address), raw: d.raw!.toString('utf8'), body: s.body, smtputf8: s.smtputf8 });
        return '2.0.0 Ok: queued';
      },
    },
    ...extra,
  });
  const port = await server.listen(0, '127.0.0.1');
  return { server, port, seen };
}

async function session(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  assert.match(await c.reply(), /^220 mx\.engine\.test ESMTP/);
  assert.match(await c.command('EHLO client.test'), /^250-mx\.engine\.test/);
  return c;
}

describe('SMTP engine', () => {
  let s: Awaited<ReturnType<typeof start>>;
  before(async () => {
    s = await start();
  });
  after(async () => {
    await s.server.close(500);
  });

  it('greets at once without an early-talker delay, and serves a client that talks first', async () => {
    const c = await RawSmtp.connect(s.port);
    await c.write('EHLO eager.test\r\n');
    assert.match(await c.reply(), /^220 /);
    assert.match(await c.reply(), /^250-mx\.engine\.test\n250-PIPELINING\n250-SIZE 10000\n250-8BITMIME\n250-SMTPUTF8\n250-ENHANCEDSTATUSCODES\n250 AUTH PLAIN LOGIN$/);
    c.close();
  });

  it('with an early-talker check, a client talking before the greeting is refused and cut off', async () => {
    const guarded = await start({ greetingDelayMs: 300 });
    try {
      const eager = await RawSmtp.connect(guarded.port);
      await eager.write('EHLO spam.test\r\n');
      assert.match(await eager.reply(), /^554 5\.5\.1 Protocol error: the client talked before the greeting/);
      await eager.closed;
      const patient = await RawSmtp.connect(guarded.port);
      const t = Date.now();
      assert.match(await patient.reply(), /^220 /);
      assert.ok(Date.now() - t >= 250, 'the greeting waited');
      assert.match(await patient.command('EHLO mx.sender.test'), /^250-/);
      patient.close();
    } finally {
      await guarded.server.close(500);
    }
  });

  it('answers a pipelined group in one write, in order', async () => {
    const c = await session(s.port);
    c.reads = [];
    await c.write('MAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nRCPT TO:<z@refused.test>\r\nDATA\r\n');
    assert.deepEqual((await c.replies(4)).map((r) => r.slice(0, 3)), ['250', '250', '550', '354']);
    assert.equal(c.reads.length, 1, 'one read held all four replies');
    await c.write('Subject: t\r\n\r\nhi\r\n.\r\nQUIT\r\n');
    assert.deepEqual((await c.replies(2)).map((r) => r.slice(0, 3)), ['250', '221']);
    await c.closed;
    assert.deepEqual(s.seen.messages.at(-1)?.to, ['x@y.test']);
  });

  it('STARTTLS: commands pipelined after it are discarded, never run over TLS (CVE-2011-0411)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-engine-'));
    const tlsPair = await submissionCertificate({ dataDir: dir, hostname: 'mx.engine.test', certFile: null, keyFile: null });
    const secured = await start({ tls: tlsPair });
    try {
      const c = await session(secured.port);
      await c.write('STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n');
      assert.match(await c.reply(), /^220 2\.0\.0 Ready to start TLS/);
      await c.startTls();
      const ehlo = await c.command('EHLO client.test');
      assert.doesNotMatch(ehlo, /STARTTLS/);
      assert.match(await c.command('RCPT TO:<x@y.test>'), /^503 5\.5\.1 MAIL first/, 'the injected MAIL was not run');
      c.close();
      const implicitPort = await secured.server.listen(0, '127.0.0.1', true);
      const i = await RawSmtp.connect(implicitPort, { tls: true });
      assert.match(await i.reply(), /^220 /);
      assert.doesNotMatch(await i.command('EHLO client.test'), /STARTTLS/);
      i.close();
    } finally {
      await secured.server.close(500);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses over-long lines, bare CRs and NULs in commands, and keeps the session', async () => {
    const c = await session(s.port);
    await c.write(`NOOP ${'x'.repeat(20_000)}\r\n`);
    assert.match(await c.reply(), /^500 5\.5\.2 Line too long/);
    assert.match(await c.command('NOOP'), /^250 /);
    assert.match(await c.command('MAIL FROM:<a@b.test>\rRCPT TO:<c@d.test>'), /^500 5\.5\.2 .*bare CR or a NUL/);
    assert.match(await c.command('NOOP\u0000'), /^500 5\.5\.2 /);
    assert.match(await c.command('RCPT TO:<c@d.test>'), /^503 /, 'nothing of the bad lines ran');
    c.close();
  });

  it('closes after too many errors with 421', async () => {
    const c = await session(s.port);
    const replies: string[] = [];
    for (let i = 0; i < 10; i++) replies.push(await c.command('BOGUS'));
    assert.match(replies[8]!, /^502 /);
    assert.match(replies[9]!, /^502 /);
    assert.match(await c.reply(), /^421 4\.7\.0 Too many errors/);
    await c.closed;
  });

  it('MAIL parameters: SIZE, BODY, SMTPUTF8; unknown ones refused', async () => {
    const c = await session(s.port);
    assert.match(await c.command('MAIL FROM:<a@b.test> SIZE=20000'), /^552 5\.3\.4 /);
    assert.match(await c.command('MAIL FROM:<a@b.test> BODY=BINARYMIME'), /^555 5\.5\.4 /);
    assert.match(await c.command('MAIL FROM:<a@b.test> RET=FULL'), /^555 5\.5\.4 MAIL parameter RET/);
    assert.match(await c.command('MAIL FROM:<用户@例子.test>'), /^553 5\.6\.7 /);
    assert.match(await c.command('MAIL FROM:<a b@c.test>'), /^501 /);
    assert.match(await c.command('MAIL FROM:<用户@例子.test> SMTPUTF8 BODY=8BITMIME'), /^250 /);
    assert.match(await c.command('RCPT TO:<收件人@例子.test>'), /^250 /);
    assert.match(await c.command('DATA'), /^354 /);
    assert.match(await c.command('Subject: 月结单\r\n\r\n您好\r\n.'), /^250 /);
    assert.deepEqual([s.seen.messages.at(-1)?.body, s.seen.messages.at(-1)?.smtputf8, s.seen.messages.at(-1)?.to], ['8BITMIME', true, ['收件人@例子.test']]);
    c.close();
  });

  it('AUTH PLAIN (initial response or challenge) and LOGIN; a cancel and bad base64 get 501', async () => {
    const c = await session(s.port);
    assert.match(await c.command('AUTH PLAIN'), /^334 ?$/);
    assert.match(await c.command('*'), /^501 5\.7\.0 Authentication cancelled/);
    assert.match(await c.command('AUTH PLAIN !!!'), /^501 5\.5\.2 /);
    assert.match(await c.command(`AUTH PLAIN ${plainAuth('bad', 'x')}`), /^535 5\.7\.8 /);
    assert.match(await c.command('AUTH LOGIN'), /^334 VXNlcm5hbWU6/);
    assert.match(await c.command(Buffer.from('alice').toString('base64')), /^334 UGFzc3dvcmQ6/);
    assert.match(await c.command(Buffer.from('s3cret').toString('base64')), /^235 2\.7\.0 /);
    assert.match(await c.command(`AUTH PLAIN ${plainAuth('bob', 'x')}`), /^503 5\.5\.1 Already authenticated/);
    assert.deepEqual(s.seen.auth.slice(-2), ['PLAIN bad:x', 'LOGIN alice:s3cret']);
    c.close();
  });

  it('DATA: too large (read to its end, then 552), smuggling and bare CRs refused; the session carries on', async () => {
    const c = await session(s.port);
    const before = s.seen.messages.length;
    const tx = async (body: string) => {
      await c.write('MAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n');
      await c.replies(3);
      await c.write(body);
      return c.reply();
    };
    assert.match(await tx(`${'x'.repeat(998)}\r\n`.repeat(20) + '.\r\n'), /^552 5\.3\.4 Message exceeds the size limit of 10000 bytes/);
    assert.match(await tx('Subject: a\r\n\r\nhi\n.\r\nMAIL FROM:<evil@x.test>\r\n.\r\n'), /^554 5\.5\.2 .*smuggling/);
    assert.match(await tx('Subject: a\r\n\r\nhi\r.\r\n.\r\n'), /^554 5\.6\.0 .*bare CR/);
    assert.match(await tx('Subject: ok\r\n\r\nfine\r\n.\r\n'), /^250 /);
    assert.equal(s.seen.messages.length, before + 1, 'only the good message reached the handler');
    c.close();
  });

  it('an idle client is told 421 and closed; over maxClients a client gets 421 at once', async () => {
    const small = await start({ idleTimeoutMs: 200, maxClients: 1 });
    try {
      const first = await RawSmtp.connect(small.port);
      assert.match(await first.reply(), /^220 /);
      const second = await RawSmtp.connect(small.port);
      assert.match(await second.reply(), /^421 4\.3\.2 .*Too many connections/);
      assert.match(await first.reply(2000), /^421 4\.4\.2 .*Idle timeout/);
      await first.closed;
    } finally {
      await small.server.close(500);
    }
  });

  it('close(): an idle session is told 421 4.3.2 and new connections are refused', async () => {
    const own = await start();
    const c = await session(own.port);
    const closing = own.server.close(2000);
    assert.match(await c.reply(), /^421 4\.3\.2 .*shutting down/);
    await closing;
    await assert.rejects(RawSmtp.connect(own.port));
  });
});
