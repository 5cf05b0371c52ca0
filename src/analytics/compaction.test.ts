import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sessionFor, testApp } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { compactRollups, HOURLY_RETENTION_DAYS } from './compaction.ts';
import { addDays, localDate } from './periods.ts';
import { addToRollups } from './rollups.ts';

const DAY = 86_400_000;

describeEachEngine('statistics compaction', (get) => {
  test('finished days fold into daily counters, old hours are pruned, ranges past the hourly horizon read the days; running twice counts once', async () => {
    const { store, dataDir } = get();
    const zone = 'Asia/Shanghai';
    const now = Date.now();
    const event = (at: number, outcome: 'submitted' | 'delivered', recipientDomain = 'qq.example') => ({ at, tenantId: 'tn_a', accountId: 'ac_a', clientIp: '10.0.0.5', sourceIp: '192.0.2.1', senderDomain: 'bank.example', recipientDomain, outcome });
    const old = now - (HOURLY_RETENTION_DAYS + 20) * DAY;
    const recent = now - 3 * DAY;
    await store.transaction((trx) => addToRollups(trx, [
      event(old, 'submitted'), event(old, 'submitted', '163.example'), event(old + 3_600_000, 'delivered'),
      event(recent, 'submitted'), event(recent, 'delivered'), event(now, 'submitted'),
    ]));
    const first = await compactRollups(store, zone, now);
    assert.ok(first.days.includes(localDate(old, zone)) && first.days.includes(localDate(recent, zone)));
    assert.ok(!first.days.includes(localDate(now, zone)), 'today is not finished');
    assert.ok(first.prunedHours >= 2);
    const again = await compactRollups(store, zone, now);
    assert.ok(again.days.length >= 1 && again.days.length <= 3, `only the last days are folded again: ${again.days.join(',')}`);
    const daily = await store.db.selectFrom('stats_daily').select(['day', 'outcome', 'recipient_domain', 'n']).orderBy('day').orderBy('outcome').orderBy('recipient_domain').execute();
    assert.deepEqual(daily.map((r) => [r.day, r.outcome, r.recipient_domain, Number(r.n)]), [
      [localDate(old, zone), 'delivered', 'qq.example', 1], [localDate(old, zone), 'submitted', '163.example', 1], [localDate(old, zone), 'submitted', 'qq.example', 1],
      [localDate(recent, zone), 'delivered', 'qq.example', 1], [localDate(recent, zone), 'submitted', 'qq.example', 1],
    ]);

    const app = await testApp(store, dataDir, { timezone: zone });
    const auditor = await sessionFor(app, store, 'auditor');
    const from = localDate(old, zone);
    const to = localDate(now, zone);
    const res = await auditor.request('GET', `/api/v1/stats/sends?from=${from}&to=${to}&groupBy=date`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { total: Record<string, number>; items: { date: string; submitted: number; delivered: number }[] };
    assert.equal(body.total.submitted, 4);
    assert.equal(body.total.delivered, 2);
    assert.deepEqual(body.items.map((r) => [r.date, r.submitted, r.delivered]), [[localDate(old, zone), 2, 1], [localDate(recent, zone), 1, 1], [to, 1, 0]]);
    // Before the hourly horizon there is no hour and no other zone.
    for (const q of [`from=${from}&to=${to}&groupBy=hour`, `from=${from}&to=${to}&timezone=UTC`]) {
      const r = await auditor.request('GET', `/api/v1/stats/sends?${q}`);
      assert.equal(r.statusCode, 400, q);
      assert.match(r.body, /querystring\/from/);
    }
    // Past 13 months: refused, naming the field.
    const r = await auditor.request('GET', `/api/v1/stats/sends?from=${addDays(to, -500)}&to=${to}`);
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /querystring\/from/);
    await app.close();
  });
});
