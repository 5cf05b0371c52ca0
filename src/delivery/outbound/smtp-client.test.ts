import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Egress } from './egress.ts';
import { SmtpClient } from './smtp-client.ts';
import type { ClientOptions } from './smtp-client.ts';
import { Postfix, postfixAvailable } from '../../testing/postfix.ts';

/**
 * A hand-written server that logs what it reads, in order, with the replies it sent between:
 * a test can tell whether the client sent a command before or after a given reply.
 */
async function scriptedServer(options: { extensions: string[]; finalReplyDelayMs?: number }): Promise<{ port: number; log: string[]; close(): Promise<void> }> {
  const log: string[] = [];
  const server = net.createServer((sock) => {
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let mode: 'cmd' | 'data' | 'bdat' = 'cmd';
    let bdatLeft = 0;
    // Replies leave in order, as SMTP requires: a delayed one holds back those after it.
    let chain = Promise.resolve();
    const send = (text: string, delayMs = 0) => {
      chain = chain.then(() => (delayMs ? new Promise((r) => setTimeout(r, delayMs)) : undefined)).then(() => {
        log.push(`S: ${text.split('\r\n')[0]}`);
        sock.write(`${text}\r\n`);
      });
    };
    const final = () => send('250 2.0.0 Ok: queued', options.finalReplyDelayMs ?? 0);
    send('220 scripted.test ESMTP');
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (mode === 'bdat') {
          if (buf.length < bdatLeft) return;
          log.push(`C: <${bdatLeft} octets>`);
          buf = buf.subarray(bdatLeft);
          mode = 'cmd';
          final();
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString('utf8');
        buf = buf.subarray(nl + 2);
        if (mode === 'data') {
          if (line === '.') {
            log.push('C: .');
            mode = 'cmd';
            final();
          }
          continue;
        }
        log.push(`C: ${line}`);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') send(['250-scripted.test', ...options.extensions.map((e) => `250-${e}`), '250 ENHANCEDSTATUSCODES'].join('\r\n'));
        else if (verb === 'DATA') {
          mode = 'data';
          send('354 go ahead');
        } else if (verb === 'BDAT') {
          bdatLeft = Number(line.split(' ')[1]);
          mode = 'bdat';
        } else if (verb === 'QUIT') {
          send('221 2.0.0 Bye');
          sock.end();
        } else send('250 2.0.0 Ok');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, log, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const clientOptions = (port: number): ClientOptions => ({
  host: '127.0.0.1', port, heloName: 'out.bank.test', startTls: false, connectTimeoutMs: 2000, greetingTimeoutMs: 2000, socketTimeoutMs: 5000, rsetBetweenMessages: false,
});
const msg = (n: number, body = 'Hello.') => Buffer.from(`From: a@bank.test\r\nTo: c@example.test\r\nSubject: ${n}\r\n\r\n${body}\r\n`);

describe('egress SMTP client', () => {
  it('PIPELINING: the next message\'s envelope leaves with this one\'s content, before its final reply', async () => {
    const server = await scriptedServer({ extensions: ['PIPELINING', '8BITMIME'], finalReplyDelayMs: 150 });
    const egress = new Egress({ heloName: 'out.bank.test', rsetBetweenMessages: false, limitsFor: () => ({ maxConnections: 1, messagesPerConnection: 100, messagesPerMinute: 0 }) });
    try {
      const hosts = [{ host: '127.0.0.1', port: server.port }];
      const results = await Promise.all([1, 2, 3].map((n) => egress.send({ site: 'pipe', hosts, mailFrom: 'b@bank.test', recipients: [`r${n}@example.test`], message: msg(n) })));
      assert.deepEqual(results.map((r) => r.perRecipient[0]?.outcome), ['delivered', 'delivered', 'delivered']);
      const firstDot = server.log.indexOf('C: .');
      const secondMail = server.log.findIndex((l, i) => i > firstDot && l.startsWith('C: MAIL FROM'));
      const firstFinal = server.log.findIndex((l, i) => i > firstDot && l.startsWith('S: 250 2.0.0 Ok: queued'));
      assert.ok(secondMail > firstDot && secondMail < firstFinal, `the second MAIL came with the first content, before its 250:\n${server.log.join('\n')}`);
    } finally {
      await egress.close();
      await server.close();
    }
  });

  it('CHUNKING: BDAT LAST carries the content with its envelope (no DATA, no 354 round trip), exact octet count', async () => {
    const server = await scriptedServer({ extensions: ['PIPELINING', 'CHUNKING', '8BITMIME'] });
    const client = await SmtpClient.connect(clientOptions(server.port));
    try {
      const message = msg(1, '.starts with a dot\r\nbare LF\nend');
      const o = await client.send({ mailFrom: 'b@bank.test', recipients: ['x@example.test'], message });
      assert.equal(o.data?.code, 250);
      const bdat = server.log.find((l) => l.startsWith('C: BDAT'))!;
      // No dot-stuffing in BDAT; the bare LF is repaired to CRLF (one octet more).
      assert.equal(bdat, `C: BDAT ${message.length + 1} LAST`);
      assert.ok(!server.log.includes('C: DATA'));
    } finally {
      client.close();
      await server.close();
    }
  });

  it('8-bit content: BODY=8BITMIME where offered; to a server without 8BITMIME nothing is sent and it fails with 5.6.3', async () => {
    const eight = Buffer.from('From: a@bank.test\r\nSubject: x\r\n\r\n您好\r\n');
    const with8 = await scriptedServer({ extensions: ['PIPELINING', '8BITMIME'] });
    const without = await scriptedServer({ extensions: ['PIPELINING'] });
    const e = new Egress({ heloName: 'out.bank.test' });
    try {
      const ok = await e.send({ site: 'eight', hosts: [{ host: '127.0.0.1', port: with8.port }], mailFrom: 'b@bank.test', recipients: ['x@example.test'], message: eight });
      assert.equal(ok.perRecipient[0]?.outcome, 'delivered');
      assert.ok(with8.log.includes('C: MAIL FROM:<b@bank.test> BODY=8BITMIME'), with8.log.join('\n'));
      const refused = await e.send({ site: 'seven', hosts: [{ host: '127.0.0.1', port: without.port }], mailFrom: 'b@bank.test', recipients: ['x@example.test'], message: eight });
      assert.deepEqual([refused.perRecipient[0]?.outcome, refused.perRecipient[0]?.replyCode, refused.perRecipient[0]?.enhancedStatus], ['failed', null, '5.6.3']);
      assert.match(refused.perRecipient[0]!.text, /does not offer 8BITMIME/);
      const seven = await e.send({ site: 'seven', hosts: [{ host: '127.0.0.1', port: without.port }], mailFrom: 'b@bank.test', recipients: ['x@example.test'], message: msg(1) });
      assert.equal(seven.perRecipient[0]?.outcome, 'delivered', 'a 7-bit message still goes there, without BODY=');
      assert.deepEqual(without.log.filter((l) => l.startsWith('C: MAIL')), ['C: MAIL FROM:<b@bank.test>'], 'the 8-bit one never reached the server');
    } finally {
      await e.close();
      await with8.close();
      await without.close();
    }
  });

  it('non-ASCII addresses: SMTPUTF8 where offered; elsewhere a local 5.6.7 failure', async () => {
    const utf8 = await scriptedServer({ extensions: ['PIPELINING', '8BITMIME', 'SMTPUTF8'] });
    const ascii = await scriptedServer({ extensions: ['PIPELINING', '8BITMIME'] });
    const e = new Egress({ heloName: 'out.bank.test' });
    try {
      const job = { mailFrom: 'b@bank.test', recipients: ['张三@例子.test'], message: msg(1) };
      const ok = await e.send({ ...job, site: 'u', hosts: [{ host: '127.0.0.1', port: utf8.port }] });
      assert.equal(ok.perRecipient[0]?.outcome, 'delivered');
      assert.ok(utf8.log.includes('C: MAIL FROM:<b@bank.test> SMTPUTF8'), utf8.log.join('\n'));
      const no = await e.send({ ...job, site: 'a', hosts: [{ host: '127.0.0.1', port: ascii.port }] });
      assert.deepEqual([no.perRecipient[0]?.outcome, no.perRecipient[0]?.enhancedStatus], ['failed', '5.6.7']);
    } finally {
      await e.close();
      await utf8.close();
      await ascii.close();
    }
  });
});

describe('egress SMTP client against a real Postfix (CHUNKING, PIPELINING, 8BITMIME)', () => {
  let postfix: Postfix;
  before(async () => {
    assert.ok(postfixAvailable(), 'Postfix is required: run scripts/setup-postfix.sh as root');
    postfix = await Postfix.start({ domain: 'mx.fanout.test', mailboxes: ['alice'] });
  });
  after(async () => {
    await postfix?.stop();
  });

  it('three messages pipelined as BDAT on one session land in the mailbox byte for byte', async () => {
    const client = await SmtpClient.connect(clientOptions(postfix.port));
    try {
      assert.ok(client.extensions.has('CHUNKING') && client.pipelining, 'this Postfix offers CHUNKING and PIPELINING');
      const bodies = ['.a line starting with a dot\r\nsecond line', '尊敬的客户：您的月结单已生成。', `${'x'.repeat(900)}\r\nend`];
      const outcomes = await Promise.all(bodies.map((b, i) => client.send({ mailFrom: 'bounces@bank.test', recipients: ['alice@mx.fanout.test'], message: Buffer.from(`From: a@bank.test\r\nTo: alice@mx.fanout.test\r\nSubject: m${i}\r\nMessage-ID: <m${i}@bank.test>\r\n\r\n${b}\r\n`) })));
      for (const o of outcomes) assert.match(o.data?.raw ?? '', /^250 2\.0\.0 Ok/);
      const box = await postfix.waitForMailbox('alice', 3);
      for (const [i, b] of bodies.entries()) {
        const got = box.find((m) => m.includes(`Message-ID: <m${i}@bank.test>`));
        assert.ok(got?.includes(b.replace(/\r\n/g, '\n')), `message ${i} arrived intact`);
      }
    } finally {
      client.quit();
    }
  });
});
