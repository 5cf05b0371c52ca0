import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { buildMime } from '../templates/render.ts';
import { unsubscribeHeaders } from './headers.ts';
import { rewriteLinks } from './links.ts';
import { signToken, verifyToken } from '../core/signed-tokens.ts';

const secret = randomBytes(32);

test('a signed token verifies and returns its payload; it is URL-safe', () => {
  const payload = { t: 'tn_1', l: 'ls_2', s: 12345, e: '张三@example.test' };
  const token = signToken(secret, 'unsubscribe', payload);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.equal(encodeURIComponent(token), token);
  assert.deepEqual(verifyToken(secret, 'unsubscribe', token), payload);
});

test('a tampered, truncated, wrong-purpose or wrong-secret token is refused', () => {
  const token = signToken(secret, 'click', { u: 'https://bank.test/a', m: 'msg1' });
  const [body, sig] = token.split('.') as [string, string];
  const forgedBody = Buffer.from(JSON.stringify({ u: 'https://evil.test/', m: 'msg1' })).toString('base64url');
  assert.equal(verifyToken(secret, 'click', `${forgedBody}.${sig}`), null, 'payload swapped');
  const flipped = sig[0] === 'A' ? `B${sig.slice(1)}` : `A${sig.slice(1)}`;
  assert.equal(verifyToken(secret, 'click', `${body}.${flipped}`), null, 'signature altered');
  assert.equal(verifyToken(secret, 'click', `${body}.${sig.slice(0, -2)}`), null, 'signature truncated');
  assert.equal(verifyToken(secret, 'click', body), null, 'no signature');
  assert.equal(verifyToken(secret, 'click', `${token}.x`), null, 'extra part');
  assert.equal(verifyToken(secret, 'unsubscribe', token), null, 'other purpose');
  assert.equal(verifyToken(randomBytes(32), 'click', token), null, 'other secret');
  assert.equal(verifyToken(secret, 'click', ''), null);
  assert.equal(verifyToken(secret, 'click', '..'), null);
  // A correctly signed body that is not a JSON object is refused too.
  const arr = signToken(secret, 'open', [1, 2]);
  assert.equal(verifyToken(secret, 'open', arr), null);
});

test('a token with exp stops verifying after it', () => {
  const token = signToken(secret, 'confirm', { s: 1, exp: 2_000 });
  assert.deepEqual(verifyToken(secret, 'confirm', token, 1_999), { s: 1, exp: 2_000 });
  assert.equal(verifyToken(secret, 'confirm', token, 2_001), null);
});

test('rewriteLinks rewrites http(s) anchors only, decoding and re-escaping the URL', () => {
  const html = [
    '<a href="https://bank.test/a?x=1&amp;y=2">A</a>',
    "<a class='c' href='http://bank.test/b'>B</a>",
    '<a href=https://bank.test/c>C</a>',
    '<a title="x>y" href="https://bank.test/d">D</a>',
    '<a href="mailto:help@bank.test">mail</a>',
    '<a href="#top">top</a>',
    '<a data-fanout-notrack href="https://bank.test/unsub">unsub</a>',
    '<link href="https://fonts.test/x"><area href="https://bank.test/e">',
  ].join('');
  const seen: string[] = [];
  const out = rewriteLinks(html, (href) => {
    seen.push(href);
    return `https://t.bank.test/c/${encodeURIComponent(href)}?a=1&b=2`;
  });
  assert.deepEqual(seen, ['https://bank.test/a?x=1&y=2', 'http://bank.test/b', 'https://bank.test/c', 'https://bank.test/d']);
  assert.match(out, /<a href="https:\/\/t\.bank\.test\/c\/https%3A%2F%2Fbank\.test%2Fa%3Fx%3D1%26y%3D2\?a=1&amp;b=2">A<\/a>/);
  assert.match(out, /<a class='c' href="https:\/\/t\.bank\.test\/c\/http%3A/);
  assert.match(out, /<a title="x>y" href="https:\/\/t\.bank\.test/);
  assert.match(out, /href="mailto:help@bank\.test"/);
  assert.match(out, /href="#top"/);
  assert.match(out, /href="https:\/\/bank\.test\/unsub"/);
  assert.match(out, /<link href="https:\/\/fonts\.test\/x"><area href="https:\/\/bank\.test\/e">/);
  assert.equal(rewriteLinks(html, (h) => h), html, 'returning the URL unchanged leaves the HTML as it was');
});

test('unsubscribe headers follow RFC 8058 and survive MIME building', async () => {
  const h = unsubscribeHeaders({ httpsUrl: 'https://t.bank.test/u/abc.def', mailto: 'unsub+abc@bounce.bank.test' });
  assert.deepEqual(h, {
    'List-Unsubscribe': '<https://t.bank.test/u/abc.def>, <mailto:unsub+abc@bounce.bank.test>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  });
  const raw = await buildMime({ from: 'a@bank.test', to: 'b@example.test', subject: 's', html: null, text: 't', headers: h });
  const parsed = await simpleParser(raw);
  assert.equal(parsed.headerLines.find((l) => l.key === 'list-unsubscribe-post')?.line, 'List-Unsubscribe-Post: List-Unsubscribe=One-Click');
  assert.match(parsed.headerLines.find((l) => l.key === 'list-unsubscribe')?.line ?? '', /<https:\/\/t\.bank\.test\/u\/abc\.def>,\s*<mailto:unsub\+abc@bounce\.bank\.test>/);
  assert.throws(() => unsubscribeHeaders({ httpsUrl: 'http://t.bank.test/u/x' }), /https/);
  assert.throws(() => unsubscribeHeaders({ httpsUrl: 'not a url' }), /not a URL/);
  assert.throws(() => unsubscribeHeaders({ httpsUrl: 'https://t.bank.test/u', mailto: 'a b@c' }), /mailto/);
  assert.deepEqual(Object.keys(unsubscribeHeaders({ httpsUrl: 'https://t.bank.test/u' })), ['List-Unsubscribe', 'List-Unsubscribe-Post']);
});
