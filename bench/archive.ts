// Archive search: recipient and message-id look-ups and one month of full text (three
// characters and more through the trigram index; two characters through the fallback), over
// BENCH_ARCHIVE_MESSAGES archived messages (default 100,000; the target is 10 million) on
// BENCH_ENGINES (default sqlite,postgres). Prints the median of 5 runs of each query.
import { searchArchive } from '../src/archive/index.ts';
import type { ArchiveFilter } from '../src/archive/index.ts';
import type { Engine } from '../src/store/dialect.ts';
import { benchStore, fillArchive } from './archive-fixture.ts';

const count = Number(process.env.BENCH_ARCHIVE_MESSAGES ?? 100_000);
const engines = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',') as Engine[];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const engine of engines) {
  const b = await benchStore(engine);
  try {
    const t0 = performance.now();
    const s = await fillArchive(b.store, count);
    const fillS = (performance.now() - t0) / 1000;
    console.log(`\n[${engine}] ${count.toLocaleString()} archived messages written in ${fillS.toFixed(1)} s`);
    const cases: [string, ArchiveFilter, string][] = [
      ['recipient', { tenantId: s.tenantId, recipient: s.sampleRecipient }, '< 50 ms'],
      ['message id', { tenantId: s.tenantId, messageId: s.sampleHeaderId }, '< 50 ms'],
      ['full text, 3 chars, one month', { tenantId: s.tenantId, q: '对账单', from: s.from, to: s.to }, '< 1 s'],
      ['full text, 2 terms, one month', { tenantId: s.tenantId, q: '信用卡 savings', from: s.from, to: s.to }, '< 1 s'],
      ['full text, 2 chars, one month', { tenantId: s.tenantId, q: '账户', from: s.from, to: s.to }, '< 1 s'],
      ['full text, 1 char, one month', { tenantId: s.tenantId, q: '积', from: s.from, to: s.to }, '< 1 s'],
    ];
    for (const [name, filter, target] of cases) {
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        const r = await searchArchive(b.store.db, engine, filter, { limit: 50 });
        times.push(performance.now() - t);
        found = r.items.length;
      }
      console.log(`  ${name.padEnd(34)} ${median(times).toFixed(1).padStart(8)} ms  (${found} items shown; target ${target})`);
    }
  } finally {
    await b.drop();
  }
}
