import assert from 'node:assert/strict';
import { test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { addToRollups } from '../analytics/index.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';

interface Family { name: string; type: string; metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string> }[] }

const parse = (text: string) => (parsePrometheusTextFormat as unknown as (t: string) => Family[])(text);
const sum = (f: Family | undefined, pick: (labels: Record<string, string>) => boolean = () => true) => (f?.metrics ?? []).filter((m) => pick(m.labels ?? {})).reduce((n, m) => n + Number(m.value), 0);

describeEachEngine('Prometheus metrics', (get) => {
  test('GET /metrics parses as Prometheus text, fanout_ names, bounded labels, counters equal the statistics; loopback, networks or token only', async () => {
    const { store, dataDir } = get();
    const now = Date.now();
    const e = (recipientDomain: string, outcome: 'submitted' | 'delivered' | 'failed' | 'bounced', reason?: string) => ({ at: now, tenantId: 'tn_m', accountId: 'ac_m', senderDomain: 'bank.example', recipientDomain, outcome, reason });
    await store.transaction((trx) => addToRollups(trx, [
      e('qq.com', 'submitted'), e('qq.com', 'submitted'), e('gmail.com', 'submitted'), e('tiny-unlisted.example', 'submitted'),
      e('qq.com', 'delivered'), e('gmail.com', 'failed', 'userunknown'), e('tiny-unlisted.example', 'bounced', 'mailboxfull'),
    ]));
    const app = await testApp(store, dataDir, { metrics: { allowedNetworks: ['10.9.0.0/16'], token: 'a-metrics-token-long-enough' } });
    const res = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const families = parse(res.body);
    const byName = new Map(families.map((f) => [f.name, f]));
    assert.ok(families.every((f) => f.name.startsWith('fanout_')), families.map((f) => f.name).filter((n) => !n.startsWith('fanout_')).join(','));
    for (const name of ['fanout_messages_submitted_total', 'fanout_deliveries_total', 'fanout_bounces_total', 'fanout_queue_recipients', 'fanout_queue_oldest_age_seconds',
      'fanout_delivery_latency_seconds', 'fanout_webhook_deliveries_total', 'fanout_smtp_sessions_total', 'fanout_smtp_rejects_total', 'fanout_build_info', 'fanout_webhook_outbox_pending']) {
      assert.ok(byName.has(name), `${name} is exported`);
    }
    for (const f of families) if (f.type === 'COUNTER') assert.match(f.name, /_total$/, f.name);

    // The counters equal the statistics API's totals.
    const auditor = await sessionFor(app, store, 'auditor');
    const stats = (await auditor.request('GET', '/api/v1/stats/sends?period=today&groupBy=')).json() as { total: Record<string, number> };
    assert.equal(sum(byName.get('fanout_messages_submitted_total')), stats.total.submitted);
    assert.equal(stats.total.submitted, 4);
    assert.equal(sum(byName.get('fanout_deliveries_total'), (l) => l.outcome === 'delivered'), stats.total.delivered);
    assert.equal(sum(byName.get('fanout_deliveries_total'), (l) => l.outcome === 'failed'), stats.total.failed);
    assert.equal(sum(byName.get('fanout_bounces_total'), (l) => l.kind === 'bounce'), stats.total.bounced);
    // Providers from the curated list, the rest as other: never a raw domain.
    const providers = new Set(byName.get('fanout_messages_submitted_total')!.metrics.map((m) => m.labels!.provider));
    assert.deepEqual([...providers].sort(), ['gmail', 'other', 'qq']);
    assert.ok(!res.body.includes('tiny-unlisted.example'));
    assert.deepEqual(byName.get('fanout_bounces_total')!.metrics.map((m) => m.labels), [{ kind: 'bounce', reason: 'mailboxfull' }]);

    // Access: another network is refused; a configured one, or the token, is let in.
    assert.equal((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.7' })).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.7', headers: { authorization: 'Bearer wrong-token-of-some-length' } })).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.7', headers: { authorization: 'Bearer a-metrics-token-long-enough' } })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.9.3.4' })).statusCode, 200);
    await app.close();
  });
});
