// Statistics over rollups: every period × groupBy, timed, with a raw scan of the events beside it
// for contrast. BENCH_EVENTS (default 200,000; the target is stated for 10,000,000), BENCH_ENGINE
// sqlite|postgres (default sqlite). Figures on a shared, loaded machine are indicative.
import { PERIODS, rangeFromQuery } from '../src/analytics/periods.ts';
import { sendStatistics } from '../src/analytics/statistics.ts';
import type { Dimension } from '../src/analytics/statistics.ts';
import { createTestStore } from '../src/testing/stores.ts';
import { sql } from 'kysely';
import { fillEvents } from './fill-events.ts';

const events = Number(process.env.BENCH_EVENTS ?? 200_000);
const engine = (process.env.BENCH_ENGINE ?? 'sqlite') as 'sqlite' | 'postgres';
const zone = 'Asia/Shanghai';
const t = await createTestStore(engine);
try {
  const fill = await fillEvents(t.store, events, 60);
  const buckets = Number((await t.store.db.selectFrom('stats_hourly').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  console.log(`${engine}: ${events.toLocaleString()} events written with their rollups in ${(fill.ms / 1000).toFixed(1)} s (${Math.round(events / (fill.ms / 1000)).toLocaleString()} events/s); ${buckets.toLocaleString()} hourly buckets`);
  const groupings: Dimension[][] = [[], ['date'], ['hour'], ['tenant'], ['account'], ['clientIp'], ['sourceIp'], ['senderDomain'], ['recipientDomain'], ['date', 'tenant', 'sourceIp', 'senderDomain'], ['date', 'tenant', 'sourceIp', 'recipientDomain']];
  let worst = { ms: 0, what: '' };
  for (const period of PERIODS) {
    const range = rangeFromQuery({ period }, Date.now(), zone);
    const times: string[] = [];
    for (const groupBy of groupings) {
      const s = performance.now();
      const answer = await sendStatistics(t.store.db, { range, timeZone: zone, groupBy, platformTimeZone: zone, now: Date.now() });
      const ms = performance.now() - s;
      if (ms > worst.ms) worst = { ms, what: `${period} by ${groupBy.join(',') || '(total)'} (${answer.items.length} rows)` };
      times.push(`${groupBy.join(',') || 'total'} ${ms.toFixed(0)}ms`);
    }
    console.log(`${period.padEnd(10)} ${times.join(' | ')}`);
  }
  console.log(`slowest: ${worst.what} in ${worst.ms.toFixed(0)} ms (target < 100 ms; this_month by date×tenant×IP×domain < 300 ms)`);
  const range = rangeFromQuery({ period: 'this_month' }, Date.now(), zone);
  const s = performance.now();
  const scan = await t.store.db.selectFrom('delivery_events').select((eb) => [sql<number>`(at + 28800000) / 86400000`.as('day'), 'tenant_id', 'source_ip', eb.fn.countAll<number>().as('n')])
    .where('at', '>=', Date.parse(`${range.from}T00:00:00+08:00`)).groupBy([sql`(at + 28800000) / 86400000`, 'tenant_id', 'source_ip']).execute();
  console.log(`raw scan of delivery_events for this_month by date×tenant×IP: ${(performance.now() - s).toFixed(0)} ms (${scan.length} rows) — for contrast`);
} finally {
  await t.cleanup();
}
