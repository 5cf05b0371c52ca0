import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import ExcelJS from 'exceljs';
import { AppError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import { describeEachEngine } from '../../testing/stores.ts';
import { createList, getList } from '../lists.ts';
import { getSubscriber, subscribe, unsubscribe } from '../subscribers.ts';
import { makeTenant, operator } from '../../testing/subscribers.ts';
import { getImport, importSubscribers } from './import.ts';
import type { ImportProgress } from './import.ts';

const csv = (text: string | Buffer) => Readable.from([typeof text === 'string' ? Buffer.from(text) : text]);

async function xlsx(rows: unknown[][]): Promise<Readable> {
  const pt = new PassThrough();
  const chunks: Buffer[] = [];
  pt.on('data', (c: Buffer) => chunks.push(c));
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: pt, useSharedStrings: true });
  const ws = wb.addWorksheet('订阅者');
  for (const r of rows) ws.addRow(r).commit();
  ws.commit();
  await wb.commit();
  return Readable.from([Buffer.concat(chunks)]);
}

async function count(store: Store, table: 'subscribers' | 'list_members', tenantId: string): Promise<number> {
  const r = await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
  return Number(r.n);
}

describeEachEngine('subscriber import', (get) => {
  test('CSV: attributes, per-line errors with reasons, duplicates, progress, one log entry', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_i');
    const list = await createList(store, operator, { tenantId: 'tn_i', name: 'cards' });
    const file = [
      'Email,姓名,city,tier',
      'Zhang@Example.test,张三,上海,gold',
      'li@example.test,李四,北京,',
      'not-an-address,王五,广州,silver',
      'zhang@example.test,Dup,深圳,x',
      'zhao@example.test,"Zhao, Liu",杭州,gold,extra',
      'qian@example.test,"bad"quote,x,y',
      '',
      'sun@example.test,孙七,南京,gold',
    ].join('\r\n');
    const seen: ImportProgress[] = [];
    const report = await importSubscribers(store, operator, { tenantId: 'tn_i', listId: list.id, source: csv(file), format: 'csv', fileName: 'cards.csv', onProgress: (p) => seen.push(p) });
    assert.equal(report.status, 'completed');
    assert.deepEqual({ rowsRead: report.rowsRead, imported: report.imported, updated: report.updated, duplicates: report.duplicates, errorCount: report.errorCount },
      { rowsRead: 7, imported: 3, updated: 0, duplicates: 1, errorCount: 3 });
    assert.deepEqual(report.errors.map((e) => e.line), [4, 6, 7]);
    assert.match(report.errors[0]!.reason, /"not-an-address" has no @/);
    assert.match(report.errors[1]!.reason, /expected 4 fields as in the header, found 5/);
    assert.match(report.errors[2]!.reason, /after the closing quote/);
    assert.equal(report.bytesRead, Buffer.byteLength(file));
    assert.ok(seen.length >= 1 && seen.at(-1)!.imported === 3);
    const zhang = await getSubscriber(store, operator, 'tn_i', { email: 'zhang@example.test' });
    assert.equal(zhang.name, '张三', 'the first occurrence wins');
    assert.deepEqual(zhang.attributes, { city: '上海', tier: 'gold' });
    const li = await getSubscriber(store, operator, 'tn_i', { email: 'li@example.test' });
    assert.deepEqual(li.attributes, { city: '北京' }, 'an empty cell sets nothing');
    const view = await getImport(store, operator, 'tn_i', report.importId);
    assert.equal(view.status, 'completed');
    assert.equal(view.errorCount, 3);
    assert.deepEqual(view.errors, report.errors);
    const log = await store.db.selectFrom('operation_log').selectAll().where('operation', '=', 'subscriber.import').execute();
    assert.equal(log.length, 1);
    assert.match(log[0]!.description, /3 added, 0 updated, 1 duplicates, 3 errors/);
  });

  test('re-import updates attributes and never re-subscribes an unsubscribed address', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_r');
    const list = await createList(store, operator, { tenantId: 'tn_r', name: 'r' });
    await subscribe(store, operator, { tenantId: 'tn_r', listId: list.id, email: 'a@x.test', attributes: { keep: '1', tier: 'silver' } });
    await unsubscribe(store, operator, { tenantId: 'tn_r', email: 'a@x.test' });
    const r = await importSubscribers(store, operator, { tenantId: 'tn_r', listId: list.id, source: csv('email,tier,status\na@x.test,gold,subscribed\nb@x.test,gold,unsubscribed\n'), format: 'csv' });
    assert.deepEqual([r.imported, r.updated, r.duplicates], [1, 1, 0]);
    const a = await getSubscriber(store, operator, 'tn_r', { email: 'a@x.test' });
    assert.deepEqual(a.attributes, { keep: '1', tier: 'gold' }, 'merged; a status column is not an attribute');
    assert.equal(a.memberships[0]?.status, 'unsubscribed');
    const counts = (await getList(store, operator, 'tn_r', list.id)).counts;
    assert.deepEqual([counts.subscribed, counts.unsubscribed], [1, 1]);
  });

  test('whole-file refusals are clear and write nothing', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_w');
    const list = await createList(store, operator, { tenantId: 'tn_w', name: 'w' });
    const gbkName = Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]);
    const cases: [string, Readable | (() => Promise<Readable>), 'csv' | 'xlsx', RegExp][] = [
      ['empty file', csv(''), 'csv', /the file is empty/],
      ['blank lines only', csv('\n\r\n  \n'), 'csv', /the file is empty/],
      ['no email column', csv('name,city\n张三,上海\n'), 'csv', /no email column: the header \("name", "city"\)/],
      ['no header row', csv('a@x.test,张三\nb@x.test,李四\n'), 'csv', /add a header row/],
      ['duplicate header', csv('email,city,City\na@x.test,x,y\n'), 'csv', /column "City" twice/],
      ['GBK file', csv(Buffer.concat([Buffer.from('email,name\na@x.test,'), gbkName, Buffer.from('\nb@x.test,ok\n')])), 'csv', /not UTF-8 text \(line 2\)/],
      ['UTF-16 file', csv(Buffer.from('\uFEFFemail\na@x.test\n', 'utf16le')), 'csv', /UTF-16/],
      ['XLSX given as CSV', () => xlsx([['email'], ['a@x.test']]), 'csv', /ZIP archive/],
      ['CSV given as XLSX', csv('email\na@x.test\n'), 'xlsx', /not a readable XLSX workbook/],
      ['XLSX without email column', () => xlsx([['name'], ['张三']]), 'xlsx', /no email column/],
    ];
    for (const [what, src, format, re] of cases) {
      const source = typeof src === 'function' ? await src() : src;
      await assert.rejects(importSubscribers(store, operator, { tenantId: 'tn_w', listId: list.id, source, format }),
        (e: unknown) => e instanceof AppError && e.kind === 'validation' && re.test(e.message), what);
    }
    assert.equal(await count(store, 'subscribers', 'tn_w'), 0);
    assert.equal(await count(store, 'list_members', 'tn_w'), 0);
    const runs = await store.db.selectFrom('subscriber_imports').select(['status', 'message']).where('tenant_id', '=', 'tn_w').execute();
    assert.equal(runs.length, cases.length);
    assert.ok(runs.every((r) => r.status === 'failed' && r.message), 'each refused run says why');
  });

  test('invalid UTF-8 after the first committed batch is a per-line error', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_u');
    const list = await createList(store, operator, { tenantId: 'tn_u', name: 'u' });
    const rows = Array.from({ length: 1500 }, (_, i) => `u${i}@x.test,n${i}`);
    const bad = Buffer.concat([Buffer.from(`email,name\n${rows.join('\n')}\nbad@x.test,`), Buffer.from([0xd5, 0xc5]), Buffer.from('\nlast@x.test,ok\n')]);
    const r = await importSubscribers(store, operator, { tenantId: 'tn_u', listId: list.id, source: csv(bad), format: 'csv' });
    assert.equal(r.imported, 1501);
    assert.deepEqual(r.errors, [{ line: 1502, reason: 'the line is not valid UTF-8 text (save the file as "CSV UTF-8")' }]);
  });

  test('XLSX: first sheet, rich text, hyperlinks, numbers, row numbers as lines', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_x');
    const list = await createList(store, operator, { tenantId: 'tn_x', name: 'x' });
    const source = await xlsx([
      ['邮箱', '姓名', 'points', 'joined'],
      [{ text: 'Wang@Example.test', hyperlink: 'mailto:wang@example.test' }, { richText: [{ text: '王' }, { text: '五' }] }, 1200, new Date(Date.UTC(2024, 0, 2))],
      [],
      ['broken@', 'x'],
      ['chen@example.test'],
    ]);
    const r = await importSubscribers(store, operator, { tenantId: 'tn_x', listId: list.id, source, format: 'xlsx', status: 'unconfirmed' });
    assert.deepEqual([r.rowsRead, r.imported, r.errorCount], [3, 2, 1]);
    assert.equal(r.errors[0]?.line, 4);
    const w = await getSubscriber(store, operator, 'tn_x', { email: 'wang@example.test' });
    assert.equal(w.name, '王五');
    assert.deepEqual(w.attributes, { points: '1200', joined: '2024-01-02T00:00:00.000Z' });
    assert.equal(w.memberships[0]?.status, 'unconfirmed');
  });

  test('duplicates across batches are found by the store, not by memory', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_d');
    const list = await createList(store, operator, { tenantId: 'tn_d', name: 'd' });
    const rows = Array.from({ length: 2500 }, (_, i) => `d${i % 1200}@x.test,n${i}`);
    const r = await importSubscribers(store, operator, { tenantId: 'tn_d', listId: list.id, source: csv(`email,name\n${rows.join('\n')}\n`), format: 'csv' });
    assert.deepEqual([r.rowsRead, r.imported, r.updated, r.duplicates], [2500, 1200, 0, 1300]);
    assert.equal(await count(store, 'subscribers', 'tn_d'), 1200);
    assert.equal((await getSubscriber(store, operator, 'tn_d', { email: 'd5@x.test' })).name, 'n5');
  });
});

test('an actor of another tenant is refused before anything is read', async () => {
  // Store-free guard: the service checks access before it touches the store.
  await assert.rejects(importSubscribers({} as Store, { ...operator, tenantId: 'tn_other' }, { tenantId: 'tn_1', listId: 'ls_1', source: csv('email\n'), format: 'csv' }),
    (e: unknown) => e instanceof AppError && e.kind === 'forbidden');
});
