import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUILTIN_PRESETS, ShapingTable, SiteThrottle, classifyThrottle, hostPattern, DEFAULT_SITE_LIMITS } from './shaping.ts';
import { parseSmtpReply } from './replies.ts';

describe('shaping presets', () => {
  const table = new ShapingTable();
  const cases: [string, string | null][] = [
    ['gmail-smtp-in.l.google.com', 'gmail'],
    ['aspmx.l.google.com', 'gmail'],
    ['hotmail-com.olc.protection.outlook.com', 'outlook'],
    ['bank-test.mail.protection.outlook.com', 'outlook'],
    ['mta5.am0.yahoodns.net', 'yahoo'],
    ['mx3.qq.com', 'qq'],
    ['mxbiz1.qq.com', 'qq'],
    ['163mx01.mxmail.netease.com', 'netease'],
    ['126mx00.mxmail.netease.com', 'netease'],
    ['mx.yeah.net', 'netease'],
    ['freemx1.sinamail.sina.com.cn', 'sina'],
    ['sohumx.h.a.sohu.com', 'sohu'],
    ['mxw.mxhichina.com', 'aliyun'],
    ['mx1.bank.test', null],
    ['google.com.evil.test', null],
    ['evilgoogle.com', null],
  ];
  for (const [host, preset] of cases) {
    it(`${host} → ${preset ?? 'defaults'}`, () => {
      const shape = table.shapeFor([host]);
      assert.equal(shape.preset, preset);
      assert.deepEqual(shape.limits, preset ? BUILTIN_PRESETS.find((p) => p.name === preset)!.limits : DEFAULT_SITE_LIMITS);
    });
  }

  it('a site matches when any of its MX hosts does', () => {
    assert.equal(table.shapeFor(['backup.bank.test', 'alt1.gmail-smtp-in.l.google.com']).preset, 'gmail');
  });

  it('config overrides presets field by field, custom presets win, defaults apply to the rest', () => {
    const t = new ShapingTable({
      defaults: { maxConnections: 3 },
      presets: { qq: { messagesPerMinute: 30 } },
      custom: [{ name: 'bank-relay', match: ['relay*.bank.test'], limits: { messagesPerConnection: 1000 } }],
    });
    assert.deepEqual(t.shapeFor(['mx1.qq.com']).limits, { maxConnections: 5, messagesPerConnection: 20, messagesPerMinute: 30 });
    assert.deepEqual(t.shapeFor(['relay2.bank.test']), { preset: 'bank-relay', limits: { maxConnections: 3, messagesPerConnection: 1000, messagesPerMinute: 0 } });
    assert.deepEqual(t.shapeFor(['mx.other.test']).limits, { maxConnections: 3, messagesPerConnection: 100, messagesPerMinute: 0 });
  });

  it('bad configuration is refused with a clear message', () => {
    assert.throws(() => new ShapingTable({ presets: { gmial: { maxConnections: 2 } } }), /unknown preset "gmial"/);
    assert.throws(() => new ShapingTable({ defaults: { maxConnections: 0 } }), /defaults\.maxConnections must be a whole number >= 1/);
    assert.throws(() => new ShapingTable({ custom: [{ name: 'x', match: ['bad pattern!'], limits: {} }] }), /not a host pattern/);
  });

  it('host patterns', () => {
    assert.ok(hostPattern('*.google.com').test('a.b.google.com'));
    assert.ok(!hostPattern('*.google.com').test('google.com'));
    assert.ok(hostPattern('mxbiz*.qq.com').test('mxbiz2.qq.com'));
    assert.ok(!hostPattern('mxbiz*.qq.com').test('mx1.qq.com'));
    assert.ok(hostPattern('MX.Bank.Test.').test('mx.bank.test'));
  });
});

describe('throttle recognition', () => {
  const slow = [
    '421 4.7.0 Too many connections, try again later',
    '421 Service not available, closing transmission channel',
    '451 4.7.1 Rate limit exceeded, try again later',
    '450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered',
    '451 4.7.500 Server busy. Please try again later from [1.2.3.4]',
    '421 HL:ICC 该IP同时并发连接数过大 http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4',
    '451 RP:QRC 发信方短期内累计的收件人数量超过限制',
    '450 MI:DMC 当前连接发送的邮件数量超出限制',
    '550 Ip frequency limited [http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000725]',
    '550 Connection frequency limited',
    '452 4.3.2 System not accepting network messages',
  ];
  const suspend = [
    '421 4.7.0 [TSS04] Messages from 1.2.3.4 temporarily deferred due to unexpected volume or user complaints',
    '421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address',
    '451 4.7.650 The mail server [1.2.3.4] has been temporarily rate limited due to IP reputation',
    '451 MI:SFQ 发信人在15分钟内的发信数量超过限制',
    '421 HL:IHU 该IP因发送垃圾邮件或存在异常的连接行为，被暂时挂起',
  ];
  const none = [
    '250 2.0.0 Ok',
    '550 5.1.1 User unknown',
    '552 5.2.2 Mailbox full',
    '452 4.2.2 Mailbox full, try again later',
    '450 4.7.1 Greylisted, please try again later',
    '451 4.3.0 Temporary local problem',
    '554 5.7.1 Message rejected as spam',
    '450 4.1.8 Sender address rejected: Domain not found',
  ];
  const check = (raw: string) => {
    const r = parseSmtpReply(raw);
    return classifyThrottle(r.code, r.enhancedStatus, r.text);
  };
  for (const raw of slow) it(`slow: ${raw.slice(0, 60)}`, () => assert.equal(check(raw), 'slow'));
  for (const raw of suspend) it(`suspend: ${raw.slice(0, 60)}`, () => assert.equal(check(raw), 'suspend'));
  for (const raw of none) it(`none: ${raw.slice(0, 60)}`, () => assert.equal(check(raw), 'none'));

  it('parses multi-line replies with enhanced codes', () => {
    assert.deepEqual(parseSmtpReply('550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 https://support.google.com/mail/?p=NoSuchUser'), {
      code: 550, enhancedStatus: '5.1.1', text: 'The email account that you tried to reach does not exist. https://support.google.com/mail/?p=NoSuchUser',
    });
    assert.deepEqual(parseSmtpReply('421 closing'), { code: 421, enhancedStatus: null, text: 'closing' });
  });
});

describe('SiteThrottle', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => { t += ms; } };
  };
  const base = { maxConnections: 8, messagesPerConnection: 50, messagesPerMinute: 600 };

  it('halves rate and connections on a throttle, ignores echoes within the cooldown, recovers by doubling', () => {
    const c = clock();
    const t = new SiteThrottle(base, { now: c.now, cooldownMs: 5000, recoverEveryMs: 60_000 });
    assert.equal(t.state, 'normal');
    assert.equal(t.onReply(421, '4.7.0', 'Too many connections'), 'slow');
    assert.equal(t.state, 'slowed');
    assert.deepEqual(t.limits(), { maxConnections: 4, messagesPerConnection: 50, messagesPerMinute: 300 });
    // Replies to messages already in flight do not halve again.
    t.onReply(451, '4.7.1', 'rate limit exceeded');
    assert.equal(t.limits().messagesPerMinute, 300);
    c.advance(6000);
    t.onReply(451, '4.7.1', 'rate limit exceeded');
    assert.deepEqual(t.limits(), { maxConnections: 2, messagesPerConnection: 50, messagesPerMinute: 150 });
    // No recovery without successes.
    c.advance(120_000);
    assert.equal(t.limits().messagesPerMinute, 150);
    t.onSuccess(10);
    assert.equal(t.limits().messagesPerMinute, 600, 'two quiet minutes with successes: doubled twice, back to base');
    assert.equal(t.state, 'normal');
    assert.deepEqual(t.limits(), base);
  });

  it('suspends on a "blocked for a while" reply, doubling the suspension each time, then resumes slowed', () => {
    const c = clock();
    const t = new SiteThrottle(base, { now: c.now, suspendMs: 60_000, maxSuspendMs: 150_000 });
    assert.equal(t.onReply(421, '4.7.0', '[TSS04] Messages temporarily deferred due to unexpected volume'), 'suspend');
    assert.equal(t.state, 'suspended');
    assert.equal(t.snapshot().suspendedUntil, c.now() + 60_000);
    assert.equal(t.reserve(), 60_000, 'reserve answers with the time left');
    c.advance(60_000);
    assert.equal(t.state, 'slowed');
    assert.equal(t.reserve(), 0);
    t.onThrottle('suspend', 'again');
    assert.equal(t.snapshot().suspendedUntil, c.now() + 120_000);
    c.advance(120_000);
    t.onThrottle('suspend', 'and again');
    assert.equal(t.snapshot().suspendedUntil, c.now() + 150_000, 'capped');
  });

  it('a storm of throttles within one cooldown suspends', () => {
    const c = clock();
    const t = new SiteThrottle(base, { now: c.now, suspendAfter: 5 });
    for (let i = 0; i < 4; i++) t.onThrottle('slow', '421');
    assert.equal(t.state, 'slowed');
    t.onThrottle('slow', '421');
    assert.equal(t.state, 'suspended');
  });

  it('throttled at the floor: suspends instead of halving further', () => {
    const c = clock();
    const t = new SiteThrottle({ ...base, messagesPerMinute: 10 }, { now: c.now, minPerMinute: 5, cooldownMs: 1000 });
    t.onThrottle('slow', 'x');
    assert.equal(t.limits().messagesPerMinute, 5);
    c.advance(2000);
    t.onThrottle('slow', 'x');
    assert.equal(t.state, 'suspended');
  });

  it('holds messagesPerMinute with a token bucket', () => {
    const c = clock();
    const t = new SiteThrottle({ ...base, messagesPerMinute: 120 }, { now: c.now });
    assert.equal(t.reserve(), 0);
    assert.equal(t.reserve(), 0);
    const wait = t.reserve();
    assert.ok(wait > 0 && wait <= 500, `2 a second: wait ${wait}`);
    c.advance(wait);
    assert.equal(t.reserve(), 0);
    let sent = 0;
    for (let ms = 0; ms < 60_000; ms += 50) {
      c.advance(50);
      while (t.reserve() === 0) sent++;
    }
    assert.ok(sent >= 118 && sent <= 122, `about 120 in a minute, got ${sent}`);
  });

  it('an unlimited site is slowed to half of what it carried', () => {
    const c = clock();
    const t = new SiteThrottle({ ...base, messagesPerMinute: 0 }, { now: c.now });
    for (let i = 0; i < 1000; i++) assert.equal(t.reserve(), 0);
    assert.equal(t.observedPerMinute(), 1000);
    t.onThrottle('slow', '421');
    assert.equal(t.limits().messagesPerMinute, 500);
    t.onSuccess();
    c.advance(60_000);
    assert.equal(t.state, 'normal');
    assert.equal(t.limits().messagesPerMinute, 0);
  });
});
