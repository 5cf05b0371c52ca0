import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { CORPUS_DIR, UNSEEN_DIR, measureAgreement, readExpected, unseenHalves } from './corpus.ts';
import type { Agreement } from './corpus.ts';

// The acceptance thresholds of the bounce capability: agreement with Sisimai's answers on the
// shared corpus of real bounces, recipient by recipient.
const REASON_TARGET = 97;
const HARD_TARGET = 99;
// What the classifier reaches today. A change that lowers agreement below this fails the
// suite even while the targets above are not yet met.
const REASON_FLOOR = 98;
const HARD_FLOOR = 99.25;

let measured: Agreement | undefined;
function agreement(): Agreement {
  measured ??= measureAgreement();
  return measured;
}

function describe(a: Agreement): string {
  const pct = (n: number) => ((100 * n) / a.total).toFixed(2);
  const lines = a.disagreements.map((d) => `  ${d.path} #${d.index} ${d.field}: expected ${d.expected}, got ${d.got} (${d.recipient || 'no recipient'})`);
  return `reason ${pct(a.reasonAgree)}% (${a.reasonAgree}/${a.total}), hard_bounce ${pct(a.hardAgree)}% (${a.hardAgree}/${a.total})\n${lines.join('\n')}`;
}

test('the corpus has reference answers to compare with', () => {
  assert.ok(agreement().total >= 300, `expected the shared corpus of real bounces, found ${agreement().total} answers`);
});

test('agreement with the reference does not fall below what was reached', () => {
  const a = agreement();
  const reasonPct = (100 * a.reasonAgree) / a.total;
  const hardPct = (100 * a.hardAgree) / a.total;
  assert.ok(reasonPct >= REASON_FLOOR && hardPct >= HARD_FLOOR, describe(a));
});

test(`agreement reaches ${REASON_TARGET}% on reason and ${HARD_TARGET}% on hard_bounce`, () => {
  const a = agreement();
  const reasonPct = (100 * a.reasonAgree) / a.total;
  const hardPct = (100 * a.hardAgree) / a.total;
  assert.ok(reasonPct >= REASON_TARGET && hardPct >= HARD_TARGET, describe(a));
});

// Generalisation, measured on bounces the rules were not written against: the held-out half of
// the corpus (corpusHalf) and testdata/bounces-unseen (the same public collection's other
// messages, with Sisimai 5's answers from its own test suite). Floors at what is reached now, so
// a change that fits the corpus at the expense of unseen mail fails here; the product target
// (95 % reason, 98 % hard_bounce on unseen mail) is not reached yet.
const GENERALISATION_FLOORS = {
  heldOut: { reason: 97.5, hard: 99 },
  unseen: { reason: 91, hard: 96.5 },
  // The half of the unseen set nobody read while writing readers and rules (split.tsv): the honest figure.
  blind: { reason: 86, hard: 95 },
};

test('agreement on the held-out half of the corpus and on the unseen set does not fall', () => {
  const heldOut = measureAgreement(CORPUS_DIR, 'held-out');
  const unseen = measureAgreement(UNSEEN_DIR);
  const pct = (a: Agreement, n: number) => (100 * n) / a.total;
  console.log(`held-out half: reason ${pct(heldOut, heldOut.reasonAgree).toFixed(1)}%, hard ${pct(heldOut, heldOut.hardAgree).toFixed(1)}% of ${heldOut.total}; unseen: reason ${pct(unseen, unseen.reasonAgree).toFixed(1)}%, hard ${pct(unseen, unseen.hardAgree).toFixed(1)}% of ${unseen.total}`);
  assert.ok(heldOut.total >= 150 && unseen.total >= 200);
  assert.ok(pct(heldOut, heldOut.reasonAgree) >= GENERALISATION_FLOORS.heldOut.reason && pct(heldOut, heldOut.hardAgree) >= GENERALISATION_FLOORS.heldOut.hard, describe(heldOut).split('\n')[0]);
  // Only the totals of the unseen set are shown: the blind half is never read message by message.
  assert.ok(pct(unseen, unseen.reasonAgree) >= GENERALISATION_FLOORS.unseen.reason && pct(unseen, unseen.hardAgree) >= GENERALISATION_FLOORS.unseen.hard, describe(unseen).split('\n')[0]);
  const blind = measureAgreement(UNSEEN_DIR, 'blind');
  console.log(`unseen blind half: reason ${pct(blind, blind.reasonAgree).toFixed(1)}%, hard ${pct(blind, blind.hardAgree).toFixed(1)}% of ${blind.total}`);
  assert.ok(blind.total >= 100);
  assert.ok(pct(blind, blind.reasonAgree) >= GENERALISATION_FLOORS.blind.reason && pct(blind, blind.hardAgree) >= GENERALISATION_FLOORS.blind.hard, describe(blind).split('\n')[0]);
});

test('the unseen set is split in two halves by a hash of the file name, as committed in split.tsv', () => {
  const halves = unseenHalves();
  const files = new Set(readExpected(UNSEEN_DIR).map((e) => e.path));
  assert.equal(halves.size, files.size, 'every unseen message is in one half');
  for (const [file, half] of halves) {
    assert.ok(files.has(file), file);
    const byHash = createHash('sha256').update(`unseen-split:${path.basename(file)}`).digest()[0]! % 2 === 0 ? 'dev' : 'blind';
    assert.equal(half, byHash, file);
  }
});
