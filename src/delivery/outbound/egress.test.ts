import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Egress, EgressInputError, isCleanSmtpData } from './egress.ts';
import type { EgressJob, AttemptResult } from './egress.ts';
import { RouteResolver } from './routing.ts';
import { decide } from './decision.ts';
import { DEFAULT_RETRY_POLICY } from './retry.ts';
import { SmtpSink } from '../../testing/smtp-sink.ts';

const LOOP = '127.0.0.1';
const message = (tag = 'x') => Buffer.from(
  'From: statements@bank.test\r\nTo: client@example.test\r\nSubject: Statement\r\n' +
  `Message-ID: <${tag}@bank.test>\r\n\r\nHello.\r\n.a line starting with a dot\r\nBye.\r\n`,
);

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, LOOP, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const outcomes = (r: AttemptResult) => r.perRecipient.map((p) => `${p.recipient} ${p.outcome} ${p.replyCode ?? '-'} ${p.enhancedStatus ?? '-'}`);

describe('egress against the scriptable sink', () => {
  let sink: SmtpSink;
  let egress: Egress;
  let site = 0;
  const job = (recipients: string[], extra: Partial<EgressJob> = {}): EgressJob => ({
    site: `sink-${++site}`, hosts: [{ host: LOOP, port: sink.port }], mailFrom: 'bounces+1@bank.test', recipients, message: message(), ...extra,
  });

  before(async () => {
    sink = await SmtpSink.start({
      starttls: false,
      traceCommands: true,
      rules: {
        unknown: 'unknown-550', busy: 'defer-450', rate: 'ratelimit-451', closer: 'close-421', full: 'full-552', dropper: 'drop-data',
        slow: { slowMs: 300 }, vanish: 'drop-rcpt', yahoo: { code: 421, enhanced: '4.7.0', text: '[TSS04] Messages temporarily deferred due to unexpected volume' },
      },
      senderRules: {
        'busy-sender@bank.test': { code: 451, enhanced: '4.3.0', text: 'Sender temporarily refused' },
        'banned@bank.test': { code: 553, enhanced: '5.7.1', text: 'Sender address rejected' },
      },
    });
    egress = new Egress({ heloName: 'out.bank.test', connectTimeoutMs: 2000, greetingTimeoutMs: 2000, socketTimeoutMs: 3000 });
  });
  after(async () => {
    await egress.close();
    await sink.close();
  });

  it('250: delivered, envelope and content arrive intact (dot-stuffing is transparent)', async () => {
    sink.reset();
    const r = await egress.send(job(['ok@example.test', 'ok2@example.test']));
    assert.deepEqual(outcomes(r), ['ok@example.test delivered 250 2.0.0', 'ok2@example.test delivered 250 2.0.0']);
    assert.equal(r.mxHost, LOOP);
    const [m] = sink.messages;
    assert.equal(m?.mailFrom, 'bounces+1@bank.test');
    assert.deepEqual(m?.recipients, ['ok@example.test', 'ok2@example.test']);
    assert.equal(m?.raw.toString(), message().toString());
  });

  it('550 5.1.1 fails that recipient permanently; the others in the transaction are delivered', async () => {
    const r = await egress.send(job(['ok@example.test', 'unknown@example.test']));
    assert.deepEqual(outcomes(r), ['ok@example.test delivered 250 2.0.0', 'unknown@example.test failed 550 5.1.1']);
    assert.equal(r.perRecipient[1]?.text, 'User unknown');
    assert.deepEqual(decide(r.perRecipient[1]!, DEFAULT_RETRY_POLICY, 1, 0, 1000), { kind: 'failed' });
  });

  it('every recipient refused: per-recipient replies are kept', async () => {
    const r = await egress.send(job(['unknown@example.test', 'busy@example.test']));
    assert.deepEqual(outcomes(r), ['unknown@example.test failed 550 5.1.1', 'busy@example.test deferred 450 4.2.1']);
  });

  it('a refused MAIL FROM decides for every recipient (not the pipelined RCPT replies after it)', async () => {
    const t = await egress.send(job(['ok@example.test', 'ok2@example.test'], { mailFrom: 'busy-sender@bank.test' }));
    assert.deepEqual(outcomes(t), ['ok@example.test deferred 451 4.3.0', 'ok2@example.test deferred 451 4.3.0']);
    const p = await egress.send(job(['ok@example.test'], { mailFrom: 'banned@bank.test' }));
    assert.deepEqual(outcomes(p), ['ok@example.test failed 553 5.7.1']);
  });

  it('450 defers, and the schedule retries in 5 minutes; past the maximum age it expires', async () => {
    const r = await egress.send(job(['busy@example.test']));
    assert.deepEqual(outcomes(r), ['busy@example.test deferred 450 4.2.1']);
    const t0 = Date.UTC(2026, 0, 1);
    assert.deepEqual(decide(r.perRecipient[0]!, DEFAULT_RETRY_POLICY, 1, t0, t0), { kind: 'retry', at: t0 + 5 * 60_000 });
    assert.deepEqual(decide(r.perRecipient[0]!, DEFAULT_RETRY_POLICY, 40, t0, t0 + 121 * 3_600_000), { kind: 'expired' });
  });

  it('451 4.7.1 rate limit defers and slows the site', async () => {
    const j = job(['rate@example.test']);
    const r = await egress.send(j);
    assert.deepEqual(outcomes(r), ['rate@example.test deferred 451 4.7.1']);
    assert.equal(egress.status(j.site)?.state, 'slowed');
    assert.match(egress.status(j.site)?.lastReason ?? '', /Rate limit exceeded/);
  });

  it('a transaction with many throttled recipients is one signal, not one per recipient', async () => {
    const e = new Egress({ heloName: 'out.bank.test', throttle: { suspendAfter: 3 } });
    try {
      const j = job(Array.from({ length: 10 }, () => 'rate@example.test'));
      const r = await e.send(j);
      assert.ok(r.perRecipient.every((p) => p.replyCode === 451));
      assert.equal(e.status(j.site)?.state, 'slowed', 'ten 451s in one transaction slow the site once; they do not suspend it');
    } finally {
      await e.close();
    }
  });

  it('421 defers every recipient, the sink closes the session, and the next message gets a new one', async () => {
    sink.reset();
    const j = job(['closer@example.test', 'ok@example.test']);
    const r = await egress.send(j);
    assert.deepEqual(outcomes(r), ['closer@example.test deferred 421 4.7.0', 'ok@example.test deferred 421 4.7.0']);
    assert.equal(egress.status(j.site)?.state, 'slowed');
    const r2 = await egress.send({ ...j, recipients: ['ok@example.test'] });
    assert.deepEqual(outcomes(r2), ['ok@example.test delivered 250 2.0.0']);
    assert.equal(sink.counters.connections, 2);
  });

  it('552 at the end of DATA fails the message for its recipients', async () => {
    const r = await egress.send(job(['full@example.test', 'ok@example.test']));
    assert.deepEqual(outcomes(r), ['full@example.test failed 552 5.2.2', 'ok@example.test failed 552 5.2.2']);
    assert.deepEqual(decide(r.perRecipient[0]!, DEFAULT_RETRY_POLICY, 1, 0, 1), { kind: 'failed' });
  });

  it('a connection dropped mid-DATA defers with no reply code and a clear text', async () => {
    const r = await egress.send(job(['dropper@example.test']));
    assert.deepEqual(outcomes(r), ['dropper@example.test deferred - -']);
    assert.match(r.perRecipient[0]!.text, /connection lost during the transaction with 127\.0\.0\.1/);
    assert.equal(decide(r.perRecipient[0]!, DEFAULT_RETRY_POLICY, 1, 0, 1).kind, 'retry');
  });

  it('a slow server is waited for', async () => {
    const t = Date.now();
    const r = await egress.send(job(['slow@example.test']));
    assert.deepEqual(outcomes(r), ['slow@example.test delivered 250 2.0.0']);
    assert.ok(Date.now() - t >= 550, 'RCPT and end-of-DATA were each delayed 300 ms');
  });

  it('a server slower than the socket timeout defers with a timeout', async () => {
    const impatient = new Egress({ heloName: 'out.bank.test', socketTimeoutMs: 150 });
    try {
      const r = await impatient.send(job(['slow@example.test']));
      assert.deepEqual(outcomes(r), ['slow@example.test deferred - -']);
      assert.match(r.perRecipient[0]!.text, /ETIMEDOUT/);
    } finally {
      await impatient.close();
    }
  });

  it('reuses one session for consecutive messages, with RSET between them', async () => {
    sink.reset();
    const j = job(['a@example.test']);
    for (let i = 0; i < 5; i++) {
      const r = await egress.send({ ...j, recipients: [`r${i}@example.test`] });
      assert.equal(r.perRecipient[0]?.outcome, 'delivered');
    }
    assert.equal(sink.counters.connections, 1);
    assert.deepEqual(sink.messages.map((m) => m.transaction), [1, 2, 3, 4, 5]);
    assert.equal(new Set(sink.messages.map((m) => m.connectionId)).size, 1);
    assert.equal(sink.counters.rsets, 4);
  });

  it('a session survives a refused transaction and carries the next message', async () => {
    sink.reset();
    const j = job(['unknown@example.test']);
    await egress.send(j);
    const r = await egress.send({ ...j, recipients: ['ok@example.test'] });
    assert.equal(r.perRecipient[0]?.outcome, 'delivered');
    assert.equal(sink.counters.connections, 1);
  });

  it('a kept session found dead before any reply is replaced once, transparently', async () => {
    sink.reset();
    const j = job(['ok@example.test']);
    await egress.send(j);
    assert.equal(sink.counters.connections, 1);
    // The sink drops the kept session at RCPT without a word: the job moves to a new session,
    // where the same happens, and only then is it deferred.
    const r = await egress.send({ ...j, recipients: ['vanish@example.test'] });
    assert.deepEqual(outcomes(r), ['vanish@example.test deferred - -']);
    assert.equal(sink.counters.connections, 2, 'one fresh session was tried');
    assert.equal(sink.counters.drops, 2);
    const r2 = await egress.send(j);
    assert.equal(r2.perRecipient[0]?.outcome, 'delivered');
  });

  it('honours messagesPerConnection', async () => {
    sink.reset();
    const e = new Egress({ heloName: 'out.bank.test', limitsFor: () => ({ maxConnections: 1, messagesPerConnection: 2, messagesPerMinute: 0 }) });
    try {
      const j = job(['ok@example.test']);
      for (let i = 0; i < 5; i++) await e.send(j);
      assert.equal(sink.counters.messages, 5);
      assert.equal(sink.counters.connections, 3);
    } finally {
      await e.close();
    }
  });

  it('never holds more than maxConnections sessions at the sink', async () => {
    // A sink of its own: the shared one also sees the idle sessions of the other tests.
    const own = await SmtpSink.start({ starttls: false, default: { slowMs: 200 } });
    const e = new Egress({ heloName: 'out.bank.test', limitsFor: () => ({ maxConnections: 3, messagesPerConnection: 100, messagesPerMinute: 0 }) });
    try {
      const j = { ...job(['ok@example.test']), hosts: [{ host: LOOP, port: own.port }] };
      const results = await Promise.all(Array.from({ length: 12 }, () => e.send(j)));
      assert.ok(results.every((r) => r.perRecipient[0]?.outcome === 'delivered'));
      assert.equal(own.counters.maxConcurrentConnections, 3);
      assert.equal(own.counters.connections, 3);
      assert.deepEqual(own.messages.map((m) => m.transaction).sort(), [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    } finally {
      await e.close();
      await own.close();
    }
  });

  it('holds maxConnections while sessions are replaced after messagesPerConnection', async () => {
    const own = await SmtpSink.start({ capture: false, starttls: false });
    const e = new Egress({ heloName: 'out.bank.test', limitsFor: () => ({ maxConnections: 3, messagesPerConnection: 5, messagesPerMinute: 0 }) });
    try {
      const j = { ...job(['ok@example.test']), hosts: [{ host: LOOP, port: own.port }] };
      const results = await Promise.all(Array.from({ length: 60 }, () => e.send(j)));
      assert.ok(results.every((r) => r.perRecipient[0]?.outcome === 'delivered'));
      assert.equal(own.counters.messages, 60);
      assert.equal(own.counters.connections, 12);
      assert.ok(own.counters.maxConcurrentConnections <= 3, `at most 3 at once, saw ${own.counters.maxConcurrentConnections}`);
    } finally {
      await e.close();
      await own.close();
    }
  });

  it('holds messagesPerMinute', async () => {
    const e = new Egress({ heloName: 'out.bank.test', limitsFor: () => ({ maxConnections: 5, messagesPerConnection: 100, messagesPerMinute: 240 }) });
    try {
      const j = job(['ok@example.test']);
      const t = Date.now();
      await Promise.all(Array.from({ length: 8 }, () => e.send(j)));
      // 4 a second with a burst of 4: the last 4 wait 250 ms each.
      assert.ok(Date.now() - t >= 900, `took ${Date.now() - t} ms`);
    } finally {
      await e.close();
    }
  });

  it('a "blocked for a while" reply suspends the site: later messages are deferred without connecting', async () => {
    sink.reset();
    const j = job(['yahoo@example.test']);
    const r = await egress.send(j);
    assert.deepEqual(outcomes(r), ['yahoo@example.test deferred 421 4.7.0']);
    assert.equal(egress.status(j.site)?.state, 'suspended');
    const r2 = await egress.send({ ...j, recipients: ['ok@example.test'] });
    assert.equal(r2.perRecipient[0]?.outcome, 'deferred');
    assert.match(r2.perRecipient[0]!.text, /suspended by back-off until .* after: 421 4\.7\.0 \[TSS04\]/);
    assert.equal(sink.counters.connections, 1);
  });

  it('sends a stream as well as a buffer', async () => {
    sink.reset();
    const r = await egress.send(job(['ok@example.test'], { message: Readable.from([message('s').subarray(0, 20), message('s').subarray(20)]) }));
    assert.equal(r.perRecipient[0]?.outcome, 'delivered');
    assert.equal(sink.messages[0]?.raw.toString(), message('s').toString());
  });

  it('a message stream that fails defers with that reason, and the next message still goes', async () => {
    const broken = new Readable({ read() { this.destroy(new Error('disk read error')); } });
    const j = job(['ok@example.test'], { message: broken });
    const r = await egress.send(j);
    assert.equal(r.perRecipient[0]?.outcome, 'deferred');
    assert.match(r.perRecipient[0]!.text, /reading the message failed: .*disk read error/);
    const r2 = await egress.send({ ...j, message: message() });
    assert.equal(r2.perRecipient[0]?.outcome, 'delivered');
  });

  it('bare LF, bare CR and leading dots arrive repaired; clean messages arrive byte for byte', async () => {
    sink.reset();
    const clean = Buffer.from('From: a@bank.test\r\nSubject: clean\r\n\r\nline one\r\nline two\r\n');
    const dirty = Buffer.from('From: a@bank.test\nSubject: dirty\n\n.dot\nbare\rcr\r\n..two\r\nend');
    await egress.send(job(['ok@example.test'], { message: clean }));
    await egress.send(job(['ok@example.test'], { message: dirty }));
    assert.equal(sink.messages[0]?.raw.toString(), clean.toString());
    assert.equal(sink.messages[1]?.raw.toString(), 'From: a@bank.test\r\nSubject: dirty\r\n\r\n.dot\r\nbare\r\ncr\r\n..two\r\nend\r\n');
  });

  it('close() lets transactions in flight finish', async () => {
    const e = new Egress({ heloName: 'out.bank.test' });
    const pending = Array.from({ length: 4 }, () => e.send(job(['slow@example.test'])));
    await e.close();
    const results = await Promise.all(pending);
    assert.ok(results.every((r) => r.perRecipient[0]?.outcome === 'delivered'));
    await assert.rejects(e.send(job(['ok@example.test'])), /closed/);
  });

  it('malformed jobs are refused with a clear error', async () => {
    await assert.rejects(egress.send(job([])), (err: Error) => err instanceof EgressInputError && /no recipients/.test(err.message));
    await assert.rejects(egress.send(job(['not-an-address'])), /bad recipient "not-an-address"/);
    await assert.rejects(egress.send(job(['a@b.test'], { mailFrom: 'x\r\nRCPT TO:<evil@x>' })), /bad envelope sender/);
    await assert.rejects(egress.send(job(['a@b.test'], { hosts: [] })), /has no hosts/);
    await assert.rejects(egress.send(job(['a@b.test'], { sourceIp: 'eth0' })), /not an IP address/);
    assert.throws(() => new Egress({ heloName: 'bad name' }), /not a host name/);
  });
});

describe('egress: TLS, MX order and routes', () => {
  it('uses STARTTLS when offered (self-signed certificate accepted), plaintext when not', async () => {
    const tlsSink = await SmtpSink.start({ starttls: true });
    const plainSink = await SmtpSink.start({ starttls: false });
    const e = new Egress({ heloName: 'out.bank.test' });
    try {
      const base = { mailFrom: 'a@bank.test', recipients: ['ok@example.test'], message: message() };
      const r1 = await e.send({ ...base, site: 'tls', hosts: [{ host: LOOP, port: tlsSink.port }] });
      assert.equal(r1.perRecipient[0]?.outcome, 'delivered');
      assert.equal(r1.tls, true);
      assert.equal(tlsSink.messages[0]?.secure, true);
      assert.equal(tlsSink.counters.tlsSessions, 1);
      const r2 = await e.send({ ...base, site: 'plain', hosts: [{ host: LOOP, port: plainSink.port }] });
      assert.equal(r2.tls, false);
      assert.equal(plainSink.messages[0]?.secure, false);
    } finally {
      await e.close();
      await tlsSink.close();
      await plainSink.close();
    }
  });

  for (const mode of ['refused', 'broken'] as const) {
    it(`a server whose STARTTLS is ${mode} still gets the mail in plaintext (opportunistic TLS)`, async () => {
      // A hand-written server: advertises STARTTLS, then refuses it (454) or answers 220 and
      // sends bytes that are no TLS handshake. Plain sessions are served normally.
      let sessions = 0;
      let delivered = 0;
      const server = net.createServer((sock) => {
        sessions++;
        let inData = false;
        sock.on('error', () => {});
        sock.write('220 broken-tls.test ESMTP\r\n');
        sock.on('data', (d) => {
          for (const line of d.toString('latin1').split('\r\n').filter(Boolean)) {
            if (inData) {
              if (line === '.') { inData = false; delivered++; sock.write('250 2.0.0 Ok\r\n'); }
              continue;
            }
            const verb = line.slice(0, 4).toUpperCase();
            if (verb === 'EHLO') sock.write('250-broken-tls.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n');
            else if (verb === 'STAR') {
              if (mode === 'refused') sock.write('454 4.7.0 TLS not available due to local problem\r\n');
              else sock.end('220 2.0.0 Ready to start TLS\r\nthis is not a TLS handshake\r\n');
            } else if (verb === 'DATA') { inData = true; sock.write('354 go ahead\r\n'); }
            else if (verb === 'QUIT') sock.end('221 2.0.0 Bye\r\n');
            else sock.write('250 2.0.0 Ok\r\n');
          }
        });
      });
      await new Promise<void>((r) => server.listen(0, LOOP, r));
      const e = new Egress({ heloName: 'out.bank.test', connectTimeoutMs: 3000 });
      try {
        const port = (server.address() as net.AddressInfo).port;
        const r = await e.send({ site: `tls-${mode}`, hosts: [{ host: LOOP, port }], mailFrom: 'a@bank.test', recipients: ['ok@example.test'], message: message() });
        assert.deepEqual(outcomes(r), ['ok@example.test delivered 250 2.0.0']);
        assert.equal(r.tls, false);
        assert.equal(delivered, 1);
        assert.equal(sessions, mode === 'refused' ? 1 : 2, mode === 'broken' ? 'reconnected without STARTTLS' : 'carried on in the same session');
      } finally {
        await e.close();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  }

  it('tries MX hosts in order: past a dead host and a 421 greeting to the first that works', async () => {
    const refusing = await SmtpSink.start({ starttls: false, greeting: { code: 421, text: '4.3.2 Service shutting down' } });
    const good = await SmtpSink.start({ starttls: false, host: '127.0.0.2' });
    const dead = await closedPort();
    const e = new Egress({ heloName: 'out.bank.test', connectTimeoutMs: 2000 });
    try {
      const r = await e.send({
        site: 'mx-order', mailFrom: 'a@bank.test', recipients: ['ok@example.test'], message: message(),
        hosts: [{ host: LOOP, port: dead }, { host: LOOP, port: refusing.port }, { host: '127.0.0.2', port: good.port }],
      });
      assert.deepEqual(outcomes(r), ['ok@example.test delivered 250 2.0.0']);
      assert.equal(r.mxHost, '127.0.0.2');
      assert.equal(refusing.counters.connections, 1, 'the second host was tried');
      assert.equal(good.counters.messages, 1);
    } finally {
      await e.close();
      await refusing.close();
      await good.close();
    }
  });

  it('binds to the job\'s source IP and introduces itself with the configured EHLO name', async () => {
    const sink = await SmtpSink.start({ starttls: false });
    const e = new Egress({ heloName: 'mta7.bank.test' });
    try {
      const base = { site: 'src-ip', hosts: [{ host: LOOP, port: sink.port }], mailFrom: 'a@bank.test', recipients: ['ok@example.test'], message: message() };
      await e.send({ ...base, sourceIp: '127.0.0.3' });
      await e.send({ ...base, sourceIp: '127.0.0.4' });
      assert.deepEqual(sink.messages.map((m) => m.remoteAddress), ['127.0.0.3', '127.0.0.4']);
      assert.deepEqual(sink.messages.map((m) => m.heloName), ['mta7.bank.test', 'mta7.bank.test']);
      assert.equal(sink.counters.connections, 2, 'one pool per (source IP, site)');
    } finally {
      await e.close();
      await sink.close();
    }
  });

  it('a message over the size the server announces fails at once without being sent', async () => {
    const sink = await SmtpSink.start({ starttls: false, maxMessageBytes: 1024 });
    const e = new Egress({ heloName: 'out.bank.test' });
    try {
      const big = Buffer.concat([message(), Buffer.alloc(4096, 'x'), Buffer.from('\r\n')]);
      const r = await e.send({ site: 'size', hosts: [{ host: LOOP, port: sink.port }], mailFrom: 'a@bank.test', recipients: ['ok@example.test'], message: big });
      assert.deepEqual(outcomes(r), ['ok@example.test failed - 5.3.4']);
      assert.match(r.perRecipient[0]!.text, /larger than the server accepts/);
      assert.equal(sink.counters.messages, 0);
      const ok = await e.send({ site: 'size', hosts: [{ host: LOOP, port: sink.port }], mailFrom: 'a@bank.test', recipients: ['ok@example.test'], message: message() });
      assert.equal(ok.perRecipient[0]?.outcome, 'delivered', 'the session is still good');
    } finally {
      await e.close();
      await sink.close();
    }
  });

  it('no host reachable: every recipient deferred, with the reason', async () => {
    const e = new Egress({ heloName: 'out.bank.test', connectTimeoutMs: 1000 });
    try {
      const dead = await closedPort();
      const r = await e.send({ site: 'dead', mailFrom: 'a@bank.test', recipients: ['a@x.test', 'b@x.test'], message: message(), hosts: [{ host: LOOP, port: dead }] });
      assert.deepEqual(outcomes(r), ['a@x.test deferred - -', 'b@x.test deferred - -']);
      assert.equal(r.mxHost, '');
      assert.match(r.perRecipient[0]!.text, new RegExp(`connecting to 127\\.0\\.0\\.1:${dead}.*ECONNREFUSED|ECONNECTION`));
    } finally {
      await e.close();
    }
  });

  it('a static route carries mail to its host:port without DNS; a null MX domain is never contacted', async () => {
    const sink = await SmtpSink.start({ starttls: false });
    const routes = new RouteResolver({
      staticRoutes: { 'bank.test': `${LOOP}:${sink.port}` },
      resolver: { resolveMx: async () => [{ exchange: '', priority: 0 }], resolve4: async () => [], resolve6: async () => [] },
    });
    const e = new Egress({ heloName: 'out.bank.test' });
    try {
      const route = await routes.resolve('bank.test');
      assert.equal(route.source, 'static');
      const r = await e.send({ site: route.site, hosts: route.hosts, mailFrom: 'a@bank.test', recipients: ['teller@bank.test'], message: message() });
      assert.equal(r.perRecipient[0]?.outcome, 'delivered');
      assert.equal(sink.messages[0]?.recipients[0], 'teller@bank.test');
      const nullRoute = await routes.resolve('nomail.test');
      assert.equal(nullRoute.source, 'nullmx');
      assert.equal(nullRoute.failure?.permanent, true);
      assert.deepEqual(nullRoute.hosts, []);
    } finally {
      await e.close();
      await sink.close();
    }
  });
});

describe('clean-chunk detection for the DATA fast path', () => {
  it('agrees with nodemailer\'s escaping: a chunk called clean passes through it unchanged', () => {
    const pieces = ['a', 'bc', '.', '\r', '\n', '\r\n', '\r\n.', ' '];
    let seed = 11;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let clean = 0;
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => pieces[Math.floor(rnd() * pieces.length)]).join('');
      const chunk = Buffer.from(text);
      for (const last of [false, 0x0a, 0x0d, 0x61] as const) {
        if (!isCleanSmtpData(chunk, last)) continue;
        clean++;
        // What nodemailer's DataStream would do, restated: bare CR/LF repaired, leading dots doubled.
        let prev: number | false = last;
        for (const b of chunk) {
          const changed = (prev === 0x0d && b !== 0x0a) || (b === 0x0a && prev !== 0x0d) || (b === 0x2e && (prev === 0x0a || prev === false));
          assert.ok(!changed, `${JSON.stringify(text)} after ${String(last)} was called clean`);
          prev = b;
        }
      }
    }
    assert.ok(clean > 500, `enough clean samples (${clean})`);
  });
});
