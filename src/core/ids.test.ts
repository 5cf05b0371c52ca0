import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idBytes, newId } from './ids.ts';

test('newId: prefix, 10 time characters that sort by time, 16 random characters', () => {
  const a = newId('ms', 1_700_000_000_000);
  const b = newId('ms', 1_700_000_000_001);
  assert.match(a, /^ms_[0-9a-hjkmnp-tv-z]{26}$/);
  assert.ok(a.slice(0, 13) < b.slice(0, 13), 'time part sorts');
  assert.notEqual(a.slice(13), b.slice(13));
});

test('newId: every random character position takes every letter of the alphabet', () => {
  // 80 random bits give 16 characters of 5 bits each: over many ids each position must use
  // all 32 letters (a skewed encoding would leave some out).
  const seen = Array.from({ length: 16 }, () => new Set<string>());
  for (let i = 0; i < 4000; i++) {
    const r = newId('x').slice(12);
    for (let p = 0; p < 16; p++) seen[p]!.add(r[p]!);
  }
  for (const s of seen) assert.equal(s.size, 32);
});

test('idBytes: bytes are not handed out twice across pool refills', () => {
  const chunks = new Set<string>();
  for (let i = 0; i < 2000; i++) chunks.add(idBytes(10).toString('hex'));
  assert.equal(chunks.size, 2000);
  assert.throws(() => idBytes(65), RangeError);
});
