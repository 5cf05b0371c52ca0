import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import ExcelJS from 'exceljs';
import { describeEachEngine } from '../testing/stores.ts';
import { exportSubscribers, neutralise } from './export.ts';
import { importSubscribers } from './import/import.ts';
import { readCsvRecords } from './import/csv.ts';
import { createList } from './lists.ts';
import { getSubscriber, subscribe, unsubscribe } from './subscribers.ts';
import { makeTenant, operator } from '../testing/subscribers.ts';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('cells that a spreadsheet would run as formulas get a leading quote', () => {
  for (const v of ['=1+1', '+86 138', '-2', '@SUM(A1)', '\tx', '\rx']) assert.equal(neutralise(v), `'${v}`);
  for (const v of ['plain', '张三', '', "'already", 'a=b']) assert.equal(neutralise(v), v);
});

describeEachEngine('subscriber export', (get) => {
  test('CSV and XLSX: columns, attributes, statuses, formula injection neutralised, round trip', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_e');
    const list = await createList(store, operator, { tenantId: 'tn_e', name: '理财 客户' });
    await subscribe(store, operator, { tenantId: 'tn_e', listId: list.id, email: 'a@x.test', name: '张三', attributes: { city: '上海', note: '=HYPERLINK("http://evil.test","click")' } });
    await subscribe(store, operator, { tenantId: 'tn_e', listId: list.id, email: 'b@x.test', name: '@admin', attributes: { phone: '+86 138 0000 0000', score: 7 } });
    await subscribe(store, operator, { tenantId: 'tn_e', listId: list.id, email: 'c@x.test' });
    await unsubscribe(store, operator, { tenantId: 'tn_e', email: 'c@x.test' });

    const csv = await exportSubscribers(store, operator, { tenantId: 'tn_e', listId: list.id, format: 'csv' });
    assert.match(csv.fileName, /^理财_客户-\d{4}-\d{2}-\d{2}\.csv$/);
    const bytes = await collect(csv.stream);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'BOM so spreadsheets read UTF-8');
    const rows: string[][] = [];
    for await (const items of readCsvRecords(Readable.from([bytes]))) for (const r of items) if ('fields' in r) rows.push(r.fields);
    assert.deepEqual(rows[0], ['email', 'name', 'status', 'subscribed_at', 'updated_at', 'city', 'note', 'phone', 'score']);
    assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[2], r[5], r[6], r[7], r[8]]), [
      ['a@x.test', '张三', 'subscribed', '上海', `'=HYPERLINK("http://evil.test","click")`, '', ''],
      ['b@x.test', "'@admin", 'subscribed', '', '', "'+86 138 0000 0000", '7'],
      ['c@x.test', '', 'unsubscribed', '', '', '', ''],
    ]);
    assert.ok(rows.slice(1).every((r) => !/^[=+\-@\t\r]/.test(r.join(''))));

    const only = await exportSubscribers(store, operator, { tenantId: 'tn_e', listId: list.id, format: 'csv', status: 'unsubscribed' });
    assert.equal((await collect(only.stream)).toString().trim().split('\r\n').length, 2);

    const xlsx = await exportSubscribers(store, operator, { tenantId: 'tn_e', listId: list.id, format: 'xlsx' });
    const xbytes = await collect(xlsx.stream);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xbytes as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    assert.equal(ws.getCell('A2').value, 'a@x.test');
    assert.equal(ws.getCell('G2').value, `'=HYPERLINK("http://evil.test","click")`);
    assert.equal(ws.getCell('B3').value, "'@admin");
    assert.equal(ws.rowCount, 4);

    // The export imports back into another list with the same values (the guard is undone).
    const copy = await createList(store, operator, { tenantId: 'tn_e', name: 'copy' });
    const r = await importSubscribers(store, operator, { tenantId: 'tn_e', listId: copy.id, source: Readable.from([bytes]), format: 'csv' });
    assert.deepEqual([r.imported, r.errorCount], [3, 0]);
    const b = await getSubscriber(store, operator, 'tn_e', { email: 'b@x.test' });
    assert.equal(b.name, '@admin');
    assert.deepEqual(b.attributes, { phone: '+86 138 0000 0000', score: '7' });
    const c = await getSubscriber(store, operator, 'tn_e', { email: 'c@x.test' });
    assert.deepEqual(c.memberships.map((m) => m.status).sort(), ['subscribed', 'unsubscribed'], 'a status column is not imported');

    const ops = await store.db.selectFrom('operation_log').select('operation').where('operation', '=', 'subscriber.export').execute();
    assert.equal(ops.length, 3);
  });

  test('an export of thousands of members streams page by page in id order', async () => {
    const { store } = get();
    await makeTenant(store, 'tn_big_e');
    const list = await createList(store, operator, { tenantId: 'tn_big_e', name: 'big' });
    const text = `email,n\n${Array.from({ length: 2500 }, (_, i) => `e${String(i).padStart(5, '0')}@x.test,${i}`).join('\n')}\n`;
    await importSubscribers(store, operator, { tenantId: 'tn_big_e', listId: list.id, source: Readable.from([Buffer.from(text)]), format: 'csv' });
    const out = await exportSubscribers(store, operator, { tenantId: 'tn_big_e', listId: list.id, format: 'csv' });
    const lines = (await collect(out.stream)).toString().trim().split('\r\n');
    assert.equal(lines.length, 2501);
    assert.match(lines[2500]!, /^e02499@x\.test,/);
  });
});
