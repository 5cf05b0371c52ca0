// Subscriber import throughput: a generated CSV and a generated XLSX (shared strings, as Excel
// writes them) imported into a fresh embedded store; prints rows per second and peak RSS growth.
// BENCH_CSV_ROWS (default 1,000,000) and BENCH_XLSX_ROWS (default 200,000) set the sizes;
// FANOUT_DATABASE_URL=postgres://... runs against PostgreSQL instead.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import ExcelJS from 'exceljs';
import { Store } from '../src/store/store.ts';
import { migrations } from '../src/app/capabilities.ts';
import { createList } from '../src/subscribers/lists.ts';
import { importSubscribers } from '../src/subscribers/import/import.ts';
import { makeTenant, operator } from '../src/subscribers/testing.ts';

const csvRows = Number(process.env.BENCH_CSV_ROWS ?? 1_000_000);
const xlsxRows = Number(process.env.BENCH_XLSX_ROWS ?? 200_000);
const cities = ['上海', '北京', '深圳', '广州', '杭州', '成都', '南京', '武汉'];
const row = (i: number) => [`user${i}@example${i % 97}.test`, `客户${i}`, cities[i % 8]!, i % 3 ? 'silver' : 'gold', `62${String(i).padStart(14, '0')}`];

async function writeCsv(file: string, rows: number): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('email,姓名,city,tier,account_no\n');
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += `${row(i).join(',')}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

async function writeXlsx(file: string, rows: number): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true, useStyles: false });
  const ws = wb.addWorksheet('customers');
  ws.addRow(['email', '姓名', 'city', 'tier', 'account_no']).commit();
  for (let i = 0; i < rows; i++) ws.addRow(row(i)).commit();
  ws.commit();
  await wb.commit();
}

async function measure(format: 'csv' | 'xlsx', file: string, rows: number): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-bench-import-'));
  const store = Store.open({ dataDir, databaseUrl: process.env.FANOUT_DATABASE_URL ?? null });
  try {
    await store.migrate(migrations);
    const tenant = `tn_bench_${format}_${Date.now()}`;
    await makeTenant(store, tenant);
    const list = await createList(store, operator, { tenantId: tenant, name: `bench ${format}` });
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const started = performance.now();
    const report = await importSubscribers(store, operator, { tenantId: tenant, listId: list.id, format, source: fs.createReadStream(file, { highWaterMark: 256 * 1024 }) });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (report.imported !== rows) throw new Error(`${format}: imported ${report.imported} of ${rows}`);
    return {
      format, engine: store.engine, rows, file_mib: Number((fs.statSync(file).size / 2 ** 20).toFixed(1)), seconds: Number(seconds.toFixed(2)),
      rows_per_second: Math.round(rows / seconds), rss_growth_mib: Math.round((peak - baseline) / 2 ** 20),
    };
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-bench-files-'));
try {
  const csv = path.join(dir, 'subscribers.csv');
  const xlsx = path.join(dir, 'subscribers.xlsx');
  await writeCsv(csv, csvRows);
  await writeXlsx(xlsx, xlsxRows);
  for (const [format, file, rows] of [['csv', csv, csvRows], ['xlsx', xlsx, xlsxRows]] as const) {
    console.log(JSON.stringify({ benchmark: 'imports', ...(await measure(format, file, rows)) }));
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
