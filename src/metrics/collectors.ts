import client from 'prom-client';
import { firstHourlyDay, startOfDay } from '../analytics/index.ts';
import { queueDepth } from '../delivery/index.ts';
import type { Store } from '../store/store.ts';
import { providerOf } from './providers.ts';

interface RollupTotal {
  outcome: string;
  reason: string;
  recipientDomain: string;
  n: number;
}

/**
 * Every count the statistics keep, summed over all time they still hold: the daily counters
 * before the hourly horizon, the hourly ones after it. Read from the store, so every node
 * reports the cluster's figures and they equal what GET /api/v1/stats/sends answers.
 */
async function rollupTotals(store: Store, timeZone: string): Promise<RollupTotal[]> {
  const horizonDay = firstHourlyDay(Date.now(), timeZone);
  const horizon = startOfDay(horizonDay, timeZone);
  const hourly = await store.db.selectFrom('stats_hourly').select(['outcome', 'reason', 'recipient_domain', (eb) => eb.fn.sum<number>('n').as('n')])
    .where('hour', '>=', horizon).groupBy(['outcome', 'reason', 'recipient_domain']).execute();
  const daily = await store.db.selectFrom('stats_daily').select(['outcome', 'reason', 'recipient_domain', (eb) => eb.fn.sum<number>('n').as('n')])
    .where('day', '<', horizonDay).groupBy(['outcome', 'reason', 'recipient_domain']).execute();
  return [...hourly, ...daily].map((r) => ({ outcome: r.outcome, reason: r.reason, recipientDomain: r.recipient_domain, n: Number(r.n) }));
}

/**
 * A registry of the figures the store holds, for one store. Reads are shared by the metrics of
 * one scrape (and cached for a second) so a scrape costs a few grouped queries.
 */
export function storeRegistry(store: Store, timeZone: string): client.Registry {
  const registry = new client.Registry();
  let cached: { at: number; totals: Promise<RollupTotal[]> } | null = null;
  const totals = () => {
    if (!cached || Date.now() - cached.at > 1000) cached = { at: Date.now(), totals: rollupTotals(store, timeZone) };
    return cached.totals;
  };
  new client.Counter({
    name: 'fanout_messages_submitted_total', help: 'Recipients accepted for delivery (SMTP, HTTP API, campaigns), by mailbox provider.', labelNames: ['provider'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const t of await totals()) if (t.outcome === 'submitted') this.inc({ provider: providerOf(t.recipientDomain) }, t.n);
    },
  });
  new client.Counter({
    name: 'fanout_deliveries_total', help: 'Delivery results by outcome (delivered, deferred, failed, suppressed) and mailbox provider; expiries count as failed.', labelNames: ['outcome', 'provider'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const t of await totals()) {
        if (['delivered', 'deferred', 'failed', 'suppressed'].includes(t.outcome)) this.inc({ outcome: t.outcome, provider: providerOf(t.recipientDomain) }, t.n);
      }
    },
  });
  new client.Counter({
    name: 'fanout_bounces_total', help: 'Bounces and complaints that came back after acceptance, by kind and reason (the bounce vocabulary).', labelNames: ['kind', 'reason'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const t of await totals()) {
        if (t.outcome === 'bounced' || t.outcome === 'complained') this.inc({ kind: t.outcome === 'bounced' ? 'bounce' : 'complaint', reason: t.reason || 'undefined' }, t.n);
      }
    },
  });
  new client.Gauge({
    name: 'fanout_queue_recipients', help: 'Recipients waiting in the queue, by lane and state (due: never tried; retrying: deferred at least once).', labelNames: ['lane', 'state'] as const, registers: [registry],
    async collect() {
      this.reset();
      const rows = await store.db.selectFrom('delivery_recipients').select((eb) => ['lane', eb.fn.countAll<number>().as('n'), eb.fn.sum<number>(eb.case().when('attempts', '>', 0).then(1).else(0).end()).as('retrying')])
        .where('state', '=', 'queued').groupBy('lane').execute();
      for (const lane of ['transactional', 'bulk']) {
        const r = rows.find((x) => x.lane === lane);
        const retrying = Number(r?.retrying ?? 0);
        this.set({ lane, state: 'due' }, Number(r?.n ?? 0) - retrying);
        this.set({ lane, state: 'retrying' }, retrying);
      }
    },
  });
  new client.Gauge({
    name: 'fanout_queue_oldest_age_seconds', help: 'Age of the oldest queued recipient, by lane (0 when the lane is empty).', labelNames: ['lane'] as const, registers: [registry],
    async collect() {
      this.reset();
      const depth = await queueDepth(store.db);
      for (const lane of ['transactional', 'bulk']) {
        const d = depth.find((x) => x.lane === lane);
        this.set({ lane }, d?.oldestQueuedAt ? Math.max(0, (Date.now() - d.oldestQueuedAt) / 1000) : 0);
      }
    },
  });
  new client.Gauge({
    name: 'fanout_webhook_outbox_pending', help: 'Webhook deliveries waiting to be sent or retried.', registers: [registry],
    async collect() {
      const r = await store.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirst();
      this.set(Number(r?.n ?? 0));
    },
  });
  return registry;
}
