// Delivery-log export as a background job: BENCH_ROWS events (default 200,000; the target is
// stated for 1,000,000) exported to CSV and to XLSX; prints rows per second and the peak RSS
// growth during each export. BENCH_ENGINE sqlite|postgres (default sqlite).
import { exportsSettled, startExport, getExport } from '../src/analytics/exports.ts';
import { createTestStore } from '../src/testing/stores.ts';
import { fillEvents } from './fill-events.ts';

const rows = Number(process.env.BENCH_ROWS ?? 200_000);
const engine = (process.env.BENCH_ENGINE ?? 'sqlite') as 'sqlite' | 'postgres';
const t = await createTestStore(engine);
try {
  await fillEvents(t.store, rows, 30);
  for (const format of ['csv', 'xlsx'] as const) {
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const s = performance.now();
    const job = await startExport(t.store, { operator: 'bench', clientIp: '127.0.0.1', role: 'auditor' }, t.dataDir, {}, format);
    await exportsSettled();
    const ms = performance.now() - s;
    clearInterval(timer);
    const done = await getExport(t.store, job.id, {});
    console.log(`${engine} ${format}: ${done.rows.toLocaleString()} rows in ${(ms / 1000).toFixed(1)} s = ${Math.round(done.rows / (ms / 1000)).toLocaleString()} rows/s, ${(done.bytes / 1e6).toFixed(1)} MB file, peak RSS growth ${((peak - base) / 1e6).toFixed(0)} MB (targets: ≥ 50,000 rows/s, < 100 MB)`);
  }
} finally {
  await t.cleanup();
}
