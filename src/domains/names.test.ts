import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { isStrictSubdomain, normalizeDomainName, normalizeSelector, tryNormalizeDomainName, unicodeName } from './names.ts';
import { defaultSelector, freeSelector } from './dkim.ts';

test('domain names become lowercase A-labels; Unicode goes through IDNA', () => {
  assert.equal(normalizeDomainName('domain', 'Mail.Bank.COM'), 'mail.bank.com');
  assert.equal(normalizeDomainName('domain', '  bank.example.  '), 'bank.example');
  assert.equal(normalizeDomainName('domain', 'bücher.de'), 'xn--bcher-kva.de');
  assert.equal(normalizeDomainName('domain', '中国银行.中国'), 'xn--fiqs8s856bruk.xn--fiqs8s');
  assert.equal(normalizeDomainName('domain', 'xn--bcher-kva.de'), 'xn--bcher-kva.de');
  assert.equal(unicodeName('xn--bcher-kva.de'), 'bücher.de');
});

test('bad domain names are refused with an error naming the field', () => {
  const bad = ['', '   ', 'localhost', '1.2.3.4', '0x7f.1', '[::1]', '::1', 'example.com/foo', 'example.com:25', 'user@example.com',
    'exa mple.com', 'ex%41mple.com', 'a..b.com', '-bank.com', 'bank-.com', 'a_b.com', 'example.com..', 'example.123',
    `${'a'.repeat(64)}.com`, `${'abcdefghi.'.repeat(26)}com`, 'bank.com\u0000', 'bank.com;rm'];
  for (const name of bad) {
    assert.throws(() => normalizeDomainName('returnPathDomain', name), (err: unknown) => {
      assert.ok(err instanceof AppError, `${JSON.stringify(name)} should throw AppError`);
      assert.equal(err.kind, 'validation');
      assert.equal(err.problems[0]?.field, 'returnPathDomain');
      assert.match(err.message, /returnPathDomain/);
      return true;
    }, `accepted ${JSON.stringify(name)}`);
    assert.equal(tryNormalizeDomainName(name), null);
  }
  assert.throws(() => normalizeDomainName('domain', 42), /domain must be a string/);
});

test('sub-domains, selectors and default selectors', () => {
  assert.ok(isStrictSubdomain('bounces.bank.com', 'bank.com'));
  assert.ok(!isStrictSubdomain('bank.com', 'bank.com'));
  assert.ok(!isStrictSubdomain('evilbank.com', 'bank.com'));
  assert.equal(normalizeSelector('selector', 'S2026.Mail'), 's2026.mail');
  for (const s of ['', 'a b', '-x', 'x_y', 'a'.repeat(64), 'x..y']) assert.throws(() => normalizeSelector('selector', s), /selector/);
  const nov = Date.UTC(2026, 10, 25);
  assert.equal(defaultSelector(nov), 'fo202611');
  assert.equal(defaultSelector(Date.UTC(2027, 0, 1)), 'fo202701');
  assert.equal(freeSelector(nov, new Set()), 'fo202611');
  assert.equal(freeSelector(nov, new Set(['fo202611'])), 'fo202611b');
  assert.equal(freeSelector(nov, new Set(['fo202611', 'fo202611b'])), 'fo202611c');
});
