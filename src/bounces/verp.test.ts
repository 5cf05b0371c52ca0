import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeVerp, encodeVerp, looksLikeVerp, verpReturnPath } from './verp.ts';
import { newId } from '../core/ids.ts';

const secret = randomBytes(32);

test('platform ids round-trip in a local part within 64 characters, lower case only', () => {
  for (let i = 0; i < 50; i++) {
    const ref = { messageId: newId('msg'), recipientId: newId('rc') };
    const address = encodeVerp(ref, 'Bounce.Bank.Example', secret);
    const [local, domain] = address.split('@');
    assert.equal(domain, 'bounce.bank.example');
    assert.match(local ?? '', /^b-[0-9a-z]+$/);
    assert.ok((local ?? '').length <= 64, `${local} is ${(local ?? '').length} characters`);
    assert.deepEqual(decodeVerp(address, secret), ref);
    // MTAs that fold case must not break it.
    assert.deepEqual(decodeVerp(address.toUpperCase(), secret), ref);
    assert.ok(looksLikeVerp(address));
  }
});

test('other id shapes use the general layout and still round-trip', () => {
  const ref = { messageId: 'Order-42/X', recipientId: '7' };
  const address = encodeVerp(ref, 'rp.example', secret);
  assert.match(address, /^b-2[0-9a-z]+-[0-9a-z]+-[0-9a-z]{7}@rp\.example$/);
  assert.deepEqual(decodeVerp(address, secret), ref);
});

test('forged, altered or foreign addresses are refused', () => {
  const ref = { messageId: newId('msg'), recipientId: newId('rc') };
  const address = encodeVerp(ref, 'rp.example', secret);
  assert.equal(decodeVerp(address, randomBytes(32)), null, 'another secret');
  const local = address.split('@')[0] ?? '';
  // Change one character of the recipient id: the tag no longer matches.
  const i = 40;
  const swapped = local.slice(0, i) + (local[i] === 'a' ? 'b' : 'a') + local.slice(i + 1);
  assert.equal(decodeVerp(`${swapped}@rp.example`, secret), null, 'altered id');
  for (const bad of ['postmaster@rp.example', 'b-@rp.example', 'b-1short@rp.example', '', 'b-2zz-zz-abcdefg@rp.example', 'b-2!!-..-abcdefg@x']) {
    assert.equal(decodeVerp(bad, secret), null, bad);
  }
  assert.equal(looksLikeVerp('postmaster@rp.example'), false);
});

test('bad input to the encoder is a clear error', () => {
  assert.throws(() => encodeVerp({ messageId: '', recipientId: 'x' }, 'rp.example', secret), /message id and a recipient id/);
  assert.throws(() => encodeVerp({ messageId: 'm', recipientId: 'r' }, 'not a domain', secret), /not a domain name/);
  assert.throws(() => encodeVerp({ messageId: 'm', recipientId: 'r' }, 'rp.example', Buffer.alloc(4)), /secret too short/);
});

test('the return-path hook uses VERP when the domain has a return-path domain, else the sender', () => {
  const hook = verpReturnPath(secret);
  const ref = { messageId: newId('msg'), recipientId: newId('rc') };
  const rp = hook({ ...ref, mailFrom: 'news@bank.example', returnPathDomain: 'bounces.bank.example' });
  assert.deepEqual(decodeVerp(rp, secret), ref);
  assert.equal(hook({ ...ref, mailFrom: 'news@bank.example', returnPathDomain: null }), 'news@bank.example');
});
