import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Egress } from '../delivery/outbound/egress.ts';
import { POSTFIX_TOOLS } from './postfix.ts';
import { SmtpSink, findDataEnd } from './smtp-sink.ts';

const run = promisify(execFile);

describe('count-only sink (the benchmark\'s)', () => {
  it('is used when nothing is scripted or captured', async () => {
    const fast = await SmtpSink.start({ capture: false, starttls: false });
    const full = await SmtpSink.start({ capture: false, starttls: false, rules: { x: 'unknown-550' } });
    try {
      assert.equal(fast.fast, true);
      assert.equal(full.fast, false);
    } finally {
      await fast.close();
      await full.close();
    }
  });

  it('finds the end-of-data marker wherever reads split it', () => {
    const data = Buffer.from('Subject: x\r\n\r\nbody\r\n..stuffed\r\n.\r\nMAIL FROM:<a@b>\r\n');
    const end = data.indexOf('\r\n.\r\n') + 5;
    for (let cut = 0; cut <= data.length; cut++) {
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      const inA = findDataEnd(a, 0, Buffer.from('\r\n'));
      if (inA >= 0) {
        assert.equal(inA, end, `cut ${cut}`);
        continue;
      }
      const tail = Buffer.concat([Buffer.from('\r\n'), a]).subarray(-4);
      assert.equal(findDataEnd(b, 0, tail), end - cut, `cut ${cut}`);
    }
    assert.equal(findDataEnd(Buffer.from('.\r\n'), 0, Buffer.from('\r\n')), 3, 'an empty message');
  });

  it('takes pipelined mail from the egress, with RSET between messages', async () => {
    const sink = await SmtpSink.start({ capture: false, starttls: false });
    const egress = new Egress({ heloName: 'out.bank.test', limitsFor: () => ({ maxConnections: 2, messagesPerConnection: 100, messagesPerMinute: 0 }) });
    try {
      const message = Buffer.from('From: a@bank.test\r\n\r\n.leading dot\r\n\r\n.\r\nnot the end\r\n');
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => egress.send({
        site: 'fast', hosts: [{ host: '127.0.0.1', port: sink.port }], mailFrom: 'b@bank.test', recipients: [`r${i}@x.test`, `s${i}@x.test`], message,
      })));
      assert.ok(results.every((r) => r.perRecipient.every((p) => p.outcome === 'delivered' && p.replyCode === 250)));
      assert.equal(sink.counters.messages, 30);
      assert.equal(sink.counters.recipients, 60);
      assert.equal(sink.counters.connections, 2);
      assert.equal(sink.counters.rsets, 28);
      // Counted as on the wire: two dot-stuffed lines (+2) and the final ".\r\n" (+3).
      assert.equal(sink.counters.bytes, 30 * (message.length + 2 + 3));
    } finally {
      await egress.close();
      await sink.close();
    }
  });

  it('takes mail from Postfix\'s smtp-source', async () => {
    const sink = await SmtpSink.start({ capture: false, starttls: false });
    try {
      await run(POSTFIX_TOOLS.smtpSource, ['-s', '4', '-m', '200', '-l', '3000', '-t', 'x@example.test', `127.0.0.1:${sink.port}`], { timeout: 60_000 });
      assert.equal(sink.counters.messages, 200);
      assert.equal(sink.counters.connections, 200, 'smtp-source opens a session per message');
      // smtp-source has exited; the sink sees the last sockets close a moment later.
      for (let i = 0; i < 50 && sink.counters.activeConnections > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(sink.counters.activeConnections, 0);
    } finally {
      await sink.close();
    }
  });

  it('answers unknown commands and DATA without recipients with errors', async () => {
    const sink = await SmtpSink.start({ capture: false, starttls: false });
    const net = await import('node:net');
    try {
      const replies = await new Promise<string>((resolve, reject) => {
        const s = net.connect(sink.port, '127.0.0.1');
        let got = '';
        s.setEncoding('latin1');
        s.on('data', (d: string) => {
          got += d;
          if (got.includes('221 ')) resolve(got);
        });
        s.on('error', reject);
        s.write('EHLO t\r\nVRFY x\r\nMAIL FROM:<a@b>\r\nDATA\r\nQUIT\r\n');
      });
      assert.match(replies, /250-PIPELINING/);
      assert.match(replies, /502 5\.5\.2/);
      assert.match(replies, /503 5\.5\.1/);
      assert.equal(sink.counters.messages, 0);
    } finally {
      await sink.close();
    }
  });
});
