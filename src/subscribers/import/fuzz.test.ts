import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, test } from 'node:test';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { AppError } from '../../core/errors.ts';
import { describeEachEngine } from '../../testing/stores.ts';
import { createList } from '../lists.ts';
import { makeTenant, operator } from '../../testing/subscribers.ts';
import { readCsvRecords } from './csv.ts';
import { importConfig, importSubscribers } from './import.ts';
import type { RecordItem } from './records.ts';
import { RowAssembler } from './rows.ts';
import { readXlsxRecords } from './xlsx.ts';
import { sharedStringSheetXml, sharedStringsXml, sheetXml, workbookParts, xmlEscape, zip } from './xlsx/testing.ts';

/**
 * Property-based fuzzing of the importers: truncated, mutated and re-encoded files (BOMs, UTF-16,
 * GBK bytes, mixed line ends, stray quotes, repeated slices; for XLSX, bit flips, truncation,
 * forged sizes and broken XML inside a well-formed ZIP) never make the importer throw anything
 * but a validation error with a message, never take more than a bounded time, and when they
 * import, every refused line is reported with its number. Case counts are modest: the parsing
 * properties run in-process (hundreds of cases), the full importer (worker thread and store)
 * a few cases per engine.
 */
const limits = importConfig();
const CASE_MS = 5_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-fuzz-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let seq = 0;

// ---- inputs ---------------------------------------------------------------------------------

const text = fc.oneof(
  fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('张三', '李四, 王五', 'say "hi"', 'multi\nline', '', '=1+2', ' padded ', '\u00e9t\u00e9'),
);
const address = fc.oneof(fc.emailAddress(), text);
const table = fc.record({
  header: fc.constantFrom('email,name,city', 'Email,姓名,tier', '邮箱,姓名,note', 'name,city,x').map((h) => h.split(',')),
  rows: fc.array(fc.tuple(address, text, text), { maxLength: 40 }),
});

function csvOf(t: { header: string[]; rows: string[][] }, d: string): Buffer {
  const cell = (v: string) => (/[",;\t\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return Buffer.from([t.header, ...t.rows].map((r) => r.map(cell).join(d)).join('\n'));
}

const at = (buf: Buffer, n: number) => n % (buf.length + 1);
const GBK = Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]);
const BOMS = { utf8: [0xef, 0xbb, 0xbf], utf16le: [0xff, 0xfe], utf16be: [0xfe, 0xff] } as const;

const byteMutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), value: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), len: fc.nat(300), times: fc.integer({ min: 1, max: 40 }) }),
);
const csvMutation = fc.oneof(
  byteMutation,
  fc.record({ kind: fc.constant('bom' as const), which: fc.constantFrom('utf8', 'utf16le', 'utf16be') }),
  fc.record({ kind: fc.constant('eol' as const), to: fc.constantFrom('\r\n', '\r', 'mixed') }),
  fc.record({ kind: fc.constant('gbk' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('quote' as const), at: fc.nat() }),
  fc.constant({ kind: 'utf16' as const }),
);
type Mutation = typeof csvMutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(buf: Buffer, m: Mutation): Buffer {
  switch (m.kind) {
    case 'truncate': return buf.subarray(0, at(buf, m.at));
    case 'insert': { const i = at(buf, m.at); return Buffer.concat([buf.subarray(0, i), Buffer.from(m.bytes), buf.subarray(i)]); }
    case 'flip': { if (!buf.length) return buf; const b = Buffer.from(buf); b[m.at % b.length]! ^= 1 << m.bit; return b; }
    case 'overwrite': { if (buf.length < 4) return buf; const b = Buffer.from(buf); b.writeUInt32LE(m.value >>> 0, m.at % (b.length - 3)); return b; }
    case 'repeat': { const i = at(buf, m.at); const slice = buf.subarray(i, i + m.len); return Buffer.concat([buf.subarray(0, i), ...Array<Buffer>(m.times).fill(slice), buf.subarray(i)]); }
    case 'bom': return Buffer.concat([Buffer.from(BOMS[m.which]), buf]);
    case 'eol': { let n = 0; return Buffer.from(buf.toString('latin1').replace(/\n/g, () => (m.to === 'mixed' ? ['\n', '\r\n', '\r'][n++ % 3]! : m.to)), 'latin1'); }
    case 'gbk': { const i = at(buf, m.at); return Buffer.concat([buf.subarray(0, i), GBK, buf.subarray(i)]); }
    case 'quote': { const i = at(buf, m.at); return Buffer.concat([buf.subarray(0, i), Buffer.from('"'), buf.subarray(i)]); }
    case 'utf16': return Buffer.from(buf.toString('utf8'), 'utf16le');
  }
}

const csvCase = fc.record({ table, delimiter: fc.constantFrom(',', ';', '\t'), mutations: fc.array(csvMutation, { maxLength: 3 }) })
  .map(({ table: t, delimiter, mutations }) => mutations.reduce(mutate, csvOf(t, delimiter)));

const XML_JUNK = ['<', '>', '&', '"', '</row>', '<row r="0">', '<row r="1">', '<c r="ZZZZ9">', '<c t="s"><v>999999</v></c>', '&#0;', '&lol;', ']]>', '<![CDATA[', '<!--', '<si>', '</si></sst>', '<x a="1" a="2"/>'];
const xmlMutation = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), len: fc.nat(40) }),
  fc.record({ kind: fc.constant('junk' as const), at: fc.nat(), junk: fc.constantFrom(...XML_JUNK) }),
);
function mutateXml(xml: string, m: { kind: 'cut' | 'junk'; at: number; len?: number; junk?: string }): string {
  const i = m.at % (xml.length + 1);
  return m.kind === 'cut' ? xml.slice(0, i) + xml.slice(i + (m.len ?? 0)) : xml.slice(0, i) + m.junk + xml.slice(i);
}

let excelBook: Buffer | null = null;
async function excelWorkbook(): Promise<Buffer> {
  if (excelBook) return excelBook;
  const pt = new PassThrough();
  const chunks: Buffer[] = [];
  pt.on('data', (c: Buffer) => chunks.push(c));
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: pt, useSharedStrings: true, useStyles: true });
  const ws = wb.addWorksheet('订阅者');
  ws.addRow(['邮箱', '姓名', 'joined', 'points']).commit();
  for (let i = 0; i < 30; i++) ws.addRow([`p${i}@bank.test`, { richText: [{ text: '客' }, { text: `户${i}` }] }, new Date(Date.UTC(2024, 0, i + 1)), i * 1.5]).commit();
  ws.commit();
  await wb.commit();
  return (excelBook = Buffer.concat(chunks));
}

const xlsxCase = fc.record({
  base: fc.constantFrom('exceljs', 'inline', 'shared'),
  table,
  xml: fc.array(xmlMutation, { maxLength: 2 }),
  lie: fc.option(fc.nat(5000), { nil: undefined }),
  bytes: fc.array(byteMutation, { maxLength: 2 }),
});

async function xlsxOf(c: typeof xlsxCase extends fc.Arbitrary<infer C> ? C : never): Promise<Buffer> {
  let book: Buffer;
  if (c.base === 'exceljs') book = await excelWorkbook();
  else if (c.base === 'inline') {
    const sheet = c.xml.reduce(mutateXml, sheetXml([c.table.header, ...c.table.rows]));
    book = await zip(workbookParts(sheet, undefined, { sheet: c.lie === undefined ? {} : { declaredSize: c.lie } }));
  } else {
    const strings = [...c.table.rows.flatMap((r) => [r[0]!, r[1]!]), 'x', 'y'];
    const sst = c.xml.reduce(mutateXml, [...sharedStringsXml(strings.length, (i) => xmlEscape(strings[i]!))].join(''));
    book = await zip(workbookParts(sharedStringSheetXml(c.table.rows.length), sst, { sharedStrings: c.lie === undefined ? {} : { declaredSize: c.lie } }));
  }
  return c.bytes.reduce((b, m) => mutate(b, m), book);
}

// ---- what must hold -------------------------------------------------------------------------

/** The worker's pipeline, in-process: records through the row assembler, to the end. */
async function parse(format: 'csv' | 'xlsx', bytes: Buffer): Promise<{ rowsRead: number; rows: number; errors: { line: number; reason: string }[]; duplicates: number }> {
  let records: AsyncGenerator<RecordItem[]>;
  if (format === 'csv') records = readCsvRecords(Readable.from([bytes]), { limits });
  else {
    const file = path.join(dir, `case-${++seq}.xlsx`);
    fs.writeFileSync(file, bytes);
    records = readXlsxRecords(file, limits);
  }
  const assembler = new RowAssembler(format, limits, 0);
  const out = { rowsRead: 0, rows: 0, errors: [] as { line: number; reason: string }[], duplicates: 0 };
  const take = (b: ReturnType<RowAssembler['end']>) => {
    out.rowsRead += b.rowsRead;
    out.rows += b.rows.length;
    out.duplicates += b.duplicates;
    out.errors.push(...b.errors);
    for (const r of b.rows) assert.match(r.email, /^[^@\s]+@[^@\s]+$/, 'only valid addresses become rows');
  };
  for await (const items of records) for (const item of items) {
    const b = assembler.push(item);
    if (b) take(b);
  }
  take(assembler.end());
  return out;
}

/** Either a clean result (every refused line numbered and explained, counts adding up) or a validation error with a message. */
async function holds(format: 'csv' | 'xlsx', bytes: Buffer): Promise<void> {
  const started = performance.now();
  try {
    const r = await parse(format, bytes);
    assert.equal(r.rows + r.errors.length + r.duplicates, r.rowsRead, 'every record read is a row, a repeat or an error');
    for (const e of r.errors) {
      assert.ok(Number.isInteger(e.line) && e.line >= 1, `line number ${e.line}`);
      assert.ok(e.reason.length > 0);
    }
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof AppError && err.kind === 'validation', `not a validation error: ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(err.message.length > 10, err.message);
  }
  const ms = performance.now() - started;
  assert.ok(ms < CASE_MS, `a case took ${ms.toFixed(0)} ms`);
}

test('CSV: mutated and re-encoded files parse or are refused clearly, in bounded time', async () => {
  await fc.assert(fc.asyncProperty(csvCase, (bytes) => holds('csv', bytes)), { numRuns: 300 });
});

test('XLSX: corrupted ZIPs, forged sizes and broken XML parse or are refused clearly, in bounded time', async () => {
  await fc.assert(fc.asyncProperty(xlsxCase, async (c) => holds('xlsx', await xlsxOf(c))), { numRuns: 150 });
});

describeEachEngine('fuzzed files through the whole importer', (get) => {
  let lists = 0;
  const run = async (format: 'csv' | 'xlsx', bytes: Buffer) => {
    const { store } = get();
    if (!lists) await makeTenant(store, 'tn_fuzz');
    const list = await createList(store, operator, { tenantId: 'tn_fuzz', name: `f${++lists}` });
    const started = performance.now();
    let id: string;
    try {
      const r = await importSubscribers(store, operator, { tenantId: 'tn_fuzz', listId: list.id, format, source: Readable.from([bytes]), config: limits });
      id = r.importId;
      assert.equal(r.status, 'completed');
      for (const e of r.errors) assert.ok(e.line >= 1 && e.reason);
    } catch (err) {
      assert.ok(err instanceof AppError && err.kind === 'validation', `not a validation error: ${(err as Error)?.stack ?? String(err)}`);
      const row = await store.db.selectFrom('subscriber_imports').select(['id', 'status', 'message']).where('list_id', '=', list.id).executeTakeFirstOrThrow();
      assert.equal(row.status, 'failed');
      assert.equal(row.message, err.message);
      id = row.id;
    }
    const final = await store.db.selectFrom('subscriber_imports').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    assert.ok(final.status === 'completed' || final.status === 'failed', 'never left running');
    assert.ok(performance.now() - started < 3 * CASE_MS);
  };

  test('CSV cases end completed or failed with the reason', async () => {
    await fc.assert(fc.asyncProperty(csvCase, (bytes) => run('csv', bytes)), { numRuns: 8 });
  });
  test('XLSX cases end completed or failed with the reason', async () => {
    await fc.assert(fc.asyncProperty(xlsxCase, async (c) => run('xlsx', await xlsxOf(c))), { numRuns: 8 });
  });
});
