/**
 * Agreement with the reference answers in the shared corpus (Sisimai's output for real bounces).
 * Used by the corpus test and by `bench/bounces.ts`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { classifyMessage } from './classify.ts';

export const CORPUS_DIR = process.env.FANOUT_BOUNCE_CORPUS ?? path.resolve(import.meta.dirname, '../../testdata/bounces');
/** Real bounces of the same collection that are not in the corpus: measured, never read for rules. */
export const UNSEEN_DIR = path.resolve(import.meta.dirname, '../../testdata/bounces-unseen');

export interface Expected {
  path: string;
  index: number;
  status: string;
  replyCode: string;
  reason: string;
  hardBounce: boolean;
}

export function readExpected(dir = CORPUS_DIR): Expected[] {
  const lines = fs.readFileSync(path.join(dir, 'expected.tsv'), 'utf8').split('\n').filter((l) => l.trim());
  const head = (lines.shift() ?? '').split('\t');
  const col = (name: string) => head.indexOf(name);
  return lines.map((l) => {
    const c = l.split('\t');
    return {
      path: c[col('path')] ?? '',
      index: Number(c[col('index')]),
      status: c[col('status')] ?? '',
      replyCode: c[col('reply_code')] ?? '',
      reason: c[col('reason')] ?? '',
      hardBounce: c[col('hard_bounce')] === 'true',
    };
  });
}

export interface Disagreement {
  path: string;
  index: number;
  expected: string;
  got: string;
  field: 'reason' | 'hard_bounce';
  recipient: string;
}

export interface Agreement {
  total: number;
  reasonAgree: number;
  hardAgree: number;
  disagreements: Disagreement[];
}

/**
 * The corpus split in two by a hash of the file name: 'train' is the half rules may be written
 * against, 'held-out' the half nobody reads while writing them (its figure measures generalisation).
 */
export function corpusHalf(file: string): 'train' | 'held-out' {
  return createHash('sha256').update(path.basename(file)).digest()[0]! % 2 === 0 ? 'train' : 'held-out';
}

export type UnseenHalf = 'dev' | 'blind';

/**
 * The unseen set split in two, decided by a hash of the file name and committed as data
 * (`split.tsv`) before any of its messages was looked at: 'dev' may be read while writing
 * readers and rules, 'blind' is only ever measured as a total (its figure is the honest one).
 */
export function unseenHalves(dir = UNSEEN_DIR): Map<string, UnseenHalf> {
  const lines = fs.readFileSync(path.join(dir, 'split.tsv'), 'utf8').split('\n').filter((l) => l.trim()).slice(1);
  return new Map(lines.map((l) => {
    const [file, half] = l.split('\t');
    return [file ?? '', half === 'dev' ? 'dev' : 'blind'] as const;
  }));
}

/** Compares the classifier with the reference, recipient by recipient (by position in the message). */
export function measureAgreement(dir = CORPUS_DIR, half?: 'train' | 'held-out' | UnseenHalf): Agreement {
  const halves = half === 'dev' || half === 'blind' ? unseenHalves(dir) : undefined;
  const inHalf = (file: string) => !half || (halves ? halves.get(file) === half : corpusHalf(file) === half);
  const expected = readExpected(dir).filter((e) => inHalf(e.path));
  const byFile = new Map<string, ReturnType<typeof classifyMessage>>();
  const result: Agreement = { total: expected.length, reasonAgree: 0, hardAgree: 0, disagreements: [] };
  for (const e of expected) {
    let report = byFile.get(e.path);
    if (!report) {
      report = classifyMessage(fs.readFileSync(path.join(dir, e.path)));
      byFile.set(e.path, report);
    }
    const got = report.recipients[e.index - 1];
    const reason = got?.reason ?? '(none)';
    const hard = got ? String(got.hardBounce) : '(none)';
    if (reason === e.reason) result.reasonAgree++;
    else result.disagreements.push({ path: e.path, index: e.index, expected: e.reason, got: reason, field: 'reason', recipient: got?.recipient ?? '' });
    if (hard === String(e.hardBounce)) result.hardAgree++;
    else result.disagreements.push({ path: e.path, index: e.index, expected: String(e.hardBounce), got: hard, field: 'hard_bounce', recipient: got?.recipient ?? '' });
  }
  return result;
}
