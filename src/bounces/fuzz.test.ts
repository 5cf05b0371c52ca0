// Property-based tests of the MIME walker, the delivery-status parser and the whole classifier
// on damaged and re-encoded variants of the real bounce corpus: nothing throws, nothing takes
// more than a bounded time, and every answer is a recipient address with a known reason.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { classifyMessage } from './classify.ts';
import { CORPUS_DIR } from '../testing/bounce-corpus.ts';
import { parseDeliveryStatus } from './extract/dsn.ts';
import { parseMessage, partText, walk } from './mime.ts';
import { isReason } from './types.ts';
import type { BounceReport } from './types.ts';
import { encodeGbk, encodeIso2022Jp, mixLineEnds, oversize, reencode, truncate } from '../testing/bounce-variants.ts';
import type { Encoding } from '../testing/bounce-variants.ts';

const maildir = path.join(CORPUS_DIR, 'maildir');
const corpus = fs.readdirSync(maildir).filter((f) => f.endsWith('.eml')).sort().map((f) => ({ name: f, raw: fs.readFileSync(path.join(maildir, f)) }));
/**
 * Per message. A real bounce takes well under a millisecond and the 4 MB variants below under
 * one second on an idle core; the suite shares two cores with everything else, so the bound
 * is set to catch a hang or a superlinear blow-up, not to time the classifier (bench/ does).
 */
const BUDGET_MS = 5000;
const RUNS = Number(process.env.FANOUT_FUZZ_RUNS ?? 150);
const ADDRESS = /^[^\s@<>()[\],;:"]{1,64}@(?:(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}|\[[0-9.]+\])$/;
const KINDS = new Set(['bounce', 'complaint', 'autoreply', 'delivery', 'unrecognised']);

/** Classifies within the time budget and checks the shape of every answer. */
function classifyChecked(raw: Buffer, label: string): BounceReport {
  const started = performance.now();
  const report = classifyMessage(raw);
  const took = performance.now() - started;
  assert.ok(took < BUDGET_MS, `${label}: ${took.toFixed(0)} ms`);
  assert.ok(KINDS.has(report.kind), `${label}: kind ${report.kind}`);
  for (const r of report.recipients) {
    assert.ok(isReason(r.reason), `${label}: reason ${r.reason}`);
    assert.match(r.recipient, ADDRESS, `${label}: recipient`);
    assert.equal(typeof r.hardBounce, 'boolean');
    assert.match(r.status, /^(?:[245]\.\d{1,3}\.\d{1,3})?$/, `${label}: status ${r.status}`);
  }
  return report;
}

const message = fc.constantFrom(...corpus);
const encoding = fc.constantFrom<Encoding>('base64', 'quoted-printable', 'gbk', 'iso-2022-jp');

test('the corpus is there to vary', () => {
  assert.ok(corpus.length >= 300, `found ${corpus.length} messages under ${maildir}`);
});

test('truncated messages: never throws, bounded time, answers are addresses with reasons', () => {
  fc.assert(fc.property(message, fc.double({ min: 0, max: 1, noNaN: true }), (m, at) => {
    classifyChecked(truncate(m.raw, at), `${m.name} cut at ${at}`);
  }), { numRuns: RUNS });
});

test('re-encoded messages (base64, quoted-printable, GBK, ISO-2022-JP) give the same recipients and reasons', () => {
  fc.assert(fc.property(message, encoding, (m, enc) => {
    const before = classifyMessage(m.raw).recipients.map((r) => `${r.recipient} ${r.reason}`);
    const after = classifyChecked(reencode(m.raw, enc), `${m.name} as ${enc}`).recipients.map((r) => `${r.recipient} ${r.reason}`);
    // A transfer encoding is transparent; a charset change may only lose characters the new
    // charset cannot hold, so the recipients stay and the reasons may differ only where text was lost.
    if (enc === 'base64' || enc === 'quoted-printable') assert.deepEqual(after, before, `${m.name} as ${enc}`);
    else assert.deepEqual(after.map((a) => a.split(' ')[0]), before.map((b) => b.split(' ')[0]), `${m.name} as ${enc}`);
  }), { numRuns: RUNS });
});

test('CRLF and LF mixed line by line: never throws, same recipients', () => {
  fc.assert(fc.property(message, fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }), (m, pattern) => {
    const before = classifyMessage(m.raw).recipients.map((r) => r.recipient);
    const after = classifyChecked(mixLineEnds(m.raw, pattern), `${m.name} mixed`).recipients.map((r) => r.recipient);
    assert.deepEqual(after, before, `${m.name} with line ends ${pattern.map((p) => (p ? 'CRLF' : 'LF')).join(',')}`);
  }), { numRuns: RUNS });
});

test('oversized messages (an endless line, many lines, thousands of DSN blocks): bounded time', () => {
  fc.assert(fc.property(message, fc.constantFrom<'line' | 'lines' | 'dsn'>('line', 'lines', 'dsn'), fc.integer({ min: 256 * 1024, max: 4 * 1024 * 1024 }), (m, shape, bytes) => {
    classifyChecked(oversize(m.raw, bytes, shape), `${m.name} ${shape} ${bytes}`);
  }), { numRuns: 24 });
});

test('random bytes and random edits of real bounces never throw', () => {
  fc.assert(fc.property(message, fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.uint8Array({ minLength: 0, maxLength: 40 })), { maxLength: 8 }), (m, edits) => {
    let raw = Buffer.from(m.raw);
    for (const [at, bytes] of edits) {
      const i = Math.floor(raw.length * at);
      raw = Buffer.concat([raw.subarray(0, i), Buffer.from(bytes), raw.subarray(i + bytes.length)]);
    }
    classifyChecked(raw, `${m.name} edited`);
  }), { numRuns: RUNS });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
    classifyChecked(Buffer.from(bytes), 'random bytes');
  }), { numRuns: RUNS });
});

test('the MIME walker never throws and bounds the parts it makes', () => {
  const header = fc.constantFrom('Content-Type: multipart/report; boundary="b"', 'Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', 'Content-Type: text/plain; charset=gbk', 'Content-Type: multipart/mixed; boundary=b', '');
  const line = fc.oneof(header, fc.constantFrom('--b', '--b--', '', '=?utf-8?B?5L2g5aW9?=', '=?iso-2022-jp?B?GyRCJDMkcyRLJEEkTxsoQg==?='), fc.string({ maxLength: 60 }));
  fc.assert(fc.property(fc.array(line, { maxLength: 400 }), fc.boolean(), (lines, crlf) => {
    const text = lines.join(crlf ? '\r\n' : '\n');
    const started = performance.now();
    const root = parseMessage(text);
    const parts = walk(root, true);
    for (const p of parts) partText(p);
    assert.ok(performance.now() - started < BUDGET_MS);
    assert.ok(parts.length <= 10_000, `${parts.length} parts`);
  }), { numRuns: RUNS });
});

test('the delivery-status parser never throws; every recipient it returns came from a recipient field', () => {
  const field = fc.constantFrom('Final-Recipient: rfc822; a@b.example', 'Final-Recipient: ;;;', 'Original-Recipient: rfc822;', 'Action: failed', 'Status: 5.1.1', 'Status: 9.9.9.9', 'Diagnostic-Code: smtp; 550 no', 'Reporting-MTA: dns; x', ' continued', '');
  fc.assert(fc.property(fc.array(fc.oneof(field, fc.string({ maxLength: 80 })), { maxLength: 200 }), (lines) => {
    const report = parseDeliveryStatus(lines.join('\n'));
    for (const r of report.recipients) assert.ok(r.finalRecipient || r.originalRecipient);
  }), { numRuns: RUNS });
});

test('the charset encoders used above round-trip through the WHATWG decoders', () => {
  assert.equal(new TextDecoder('gbk').decode(encodeGbk('用户不存在 mailbox full')), '用户不存在 mailbox full');
  assert.equal(new TextDecoder('iso-2022-jp').decode(encodeIso2022Jp('550 ユーザが存在しません user unknown')), '550 ユーザが存在しません user unknown');
});
