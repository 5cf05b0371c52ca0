import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SmtpReply } from '../core/smtp-reply.ts';
import { submissionCertificate } from '../delivery/submission/tls.ts';
import { DataReceiver } from './data.ts';
import { SmtpServer } from './server.ts';
import { parsePathCommand } from './syntax.ts';
import { RawSmtp, plainAuth } from '../testing/smtp-test-client.ts';

// Property-based fuzzing of the SMTP command handling: random and adversarial command streams
// against a running engine, and the DATA reader and path parser on their own. Case counts are
// kept modest so the suite stays quick; a failure prints the shrunk counterexample and its seed.

const REPLY_LINE = /^[2-5]\d\d(?:[ -].*)?$/;

const commands = fc.constantFrom(
  'EHLO client.test', 'HELO client', 'MAIL FROM:<a@b.test>', 'MAIL FROM:<>', 'MAIL FROM:<a@b.test> SIZE=99999999999',
  'MAIL FROM:<a@b.test> BODY=8BITMIME SMTPUTF8', 'MAIL FROM:<用户@例子.test>', 'RCPT TO:<c@d.test>', 'RCPT TO:<x@refused.test>',
  'RCPT TO:<postmaster>', 'DATA', 'RSET', 'NOOP', 'VRFY a', 'HELP', 'STARTTLS', 'AUTH PLAIN', 'AUTH LOGIN',
  `AUTH PLAIN ${plainAuth('user', 'pass')}`, 'AUTH PLAIN ====', 'BDAT 10 LAST', '*', '.', '..', 'Subject: x', '',
  'GET / HTTP/1.1', 'MAIL FROM:<a@b.test>\rRCPT TO:<c@d.test>', 'QUIT',
);
const text = fc.oneof(
  commands,
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constantFrom('x'.repeat(13_000), 'y'.repeat(1_200)),
);
// Line ends and the sequences SMTP smuggling is made of.
const ends = fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r', '\r\n.\r\n', '\n.\n', '\n.\r\n', '\r\n.\n', '\r.\r', '\u0000', '');
const scripts = fc.record({
  lines: fc.array(fc.tuple(text, ends), { minLength: 1, maxLength: 24 }),
  cuts: fc.array(fc.nat({ max: 4000 }), { maxLength: 6 }),
});

function bytesOf(lines: [string, string][]): Buffer {
  return Buffer.from(lines.map(([t, e]) => t + e).join(''), 'utf8');
}

describe('SMTP command handling under random and adversarial input', () => {
  let server: SmtpServer<null>;
  let port = 0;
  let dir = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-fuzz-'));
    const tls = await submissionCertificate({ dataDir: dir, hostname: 'fuzz.test', certFile: null, keyFile: null });
    server = new SmtpServer<null>({
      name: 'fuzz.test', maxMessageBytes: 4096, auth: true, tls, idleTimeoutMs: 2000,
      handlers: {
        state: () => null,
        async auth(_s, c) {
          await tick();
          if (c.password !== 'pass') throw new SmtpReply(535, '5.7.8 Authentication credentials invalid');
          return c.username;
        },
        async mailFrom() {
          await tick();
        },
        rcptTo(_s, p) {
          if (p.address.endsWith('@refused.test')) throw new SmtpReply(550, '5.1.1 No such user');
        },
        async data() {
          await tick();
          return '2.0.0 Ok';
        },
      },
    });
    port = await server.listen(0, '127.0.0.1');
  });
  after(async () => {
    await server.close(500);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never crashes, answers only well-formed replies, and keeps serving, in bounded time and memory', async () => {
    const rssBefore = process.memoryUsage().rss;
    let slowest = 0;
    await fc.assert(fc.asyncProperty(scripts, async ({ lines, cuts }) => {
      const started = Date.now();
      const bytes = bytesOf(lines);
      const c = await RawSmtp.connect(port);
      const points = [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
      let from = 0;
      for (const to of [...points, bytes.length]) {
        if (to > from) await c.write(bytes.subarray(from, to)).catch(() => undefined);
        from = Math.max(from, to);
        await tick();
      }
      // Collect replies until the server closes or goes quiet.
      const replies: string[] = [];
      for (;;) {
        try {
          replies.push(await c.reply(150));
        } catch {
          break;
        }
      }
      c.close();
      for (const r of replies) for (const line of r.split('\n')) assert.match(line, REPLY_LINE, `malformed reply line ${JSON.stringify(line)}`);
      assert.match(replies[0] ?? '220', /^220 /, 'the greeting comes first');
      // The server still serves a new client.
      const probe = await RawSmtp.connect(port);
      assert.match(await probe.reply(), /^220 /);
      assert.match(await probe.command('NOOP'), /^250 /);
      probe.close();
      slowest = Math.max(slowest, Date.now() - started);
      assert.ok(Date.now() - started < 5000, `a case took ${Date.now() - started} ms`);
    }), { numRuns: 60 });
    const grown = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    assert.ok(grown < 200, `resident memory grew ${grown.toFixed(0)} MiB over the run`);
    assert.ok(slowest < 5000);
  });

  it('DATA reader: any content, dot-stuffed and cut anywhere, comes back as it was, ending exactly at CRLF.CRLF', () => {
    const line = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('.', '..', '.x', ''), fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('latin1')))
      .map((l) => l.replace(/[\r\n]/g, ''));
    fc.assert(fc.property(fc.array(line, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 5 }), fc.string({ maxLength: 10 }), (content, cuts, after) => {
      const message = content.map((l) => `${l}\r\n`).join('');
      const wire = Buffer.from(message.split('\r\n').map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n') + '.\r\n' + after, 'latin1');
      const r = new DataReceiver(1 << 20);
      let from = 0;
      let end = -1;
      for (const to of [...[...new Set(cuts.map((x) => x % (wire.length + 1)))].sort((a, b) => a - b), wire.length]) {
        if (to <= from) continue;
        const at = r.push(wire.subarray(from, to), 0);
        if (at >= 0) {
          end = from + at;
          break;
        }
        from = to;
      }
      const got = r.result();
      assert.equal(end, wire.length - Buffer.byteLength(after, 'latin1'));
      assert.equal(got.raw?.toString('latin1'), message);
      assert.equal(got.issues.loneDot, false);
    }), { numRuns: 400 });
  });

  it('path parser: any argument gives a path or an SMTP reply, never another error', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('FROM:<a@b>', 'TO:<@x,@y:a@b> NOTIFY=NEVER', 'FROM: <a@b> SIZE=1 SIZE=2', 'FROM:<"a b"@c.test>')), fc.constantFrom('FROM' as const, 'TO' as const), (args, keyword) => {
      try {
        const p = parsePathCommand(args, keyword);
        assert.equal(typeof p.address, 'string');
        assert.ok(!/[\r\n]/.test(p.address));
      } catch (err) {
        assert.ok(err instanceof SmtpReply, `threw ${String(err)}`);
        assert.ok(err.responseCode >= 500 && err.responseCode < 600);
      }
    }), { numRuns: 500 });
  });
});
