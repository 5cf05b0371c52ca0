// Webhook throughput: BENCH_WEBHOOK_EVENTS events (default 5,000) through the outbox to a local
// receiver that answers 204; prints events per second (target ≥ 1,000/s). BENCH_ENGINE sqlite|postgres.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTenant } from '../src/tenants/service.ts';
import { createTestStore } from '../src/testing/stores.ts';
import { dispatchRound } from '../src/webhooks/dispatcher.ts';
import { emitWebhookEvents } from '../src/webhooks/events.ts';
import { NetworkPolicy } from '../src/webhooks/network.ts';
import { createWebhook } from '../src/webhooks/service.ts';

const total = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 5_000);
const engine = (process.env.BENCH_ENGINE ?? 'sqlite') as 'sqlite' | 'postgres';
const t = await createTestStore(engine);
let received = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
try {
  const actor = { operator: 'bench', clientIp: '127.0.0.1', role: 'administrator' as const };
  const tenant = await createTenant(t.store, actor, { name: 'bench' });
  const policy = new NetworkPolicy(['127.0.0.0/8']);
  await createWebhook(t.store, actor, policy, { tenantId: tenant.id, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events: ['message.delivered'] });
  let s = performance.now();
  for (let i = 0; i < total; i += 500) {
    await t.store.transaction((trx) => emitWebhookEvents(trx, Array.from({ length: Math.min(500, total - i) }, (_, j) => ({ tenantId: tenant.id, type: 'message.delivered' as const, data: { recipient: `u${i + j}@x.example`, messageId: `msg_${i + j}` } }))));
  }
  console.log(`${engine}: ${total.toLocaleString()} events into the outbox in ${((performance.now() - s) / 1000).toFixed(1)} s`);
  s = performance.now();
  while ((await dispatchRound(t.store, { policy, timeoutMs: 10_000, concurrency: 64, batch: 500 })) > 0);
  const ms = performance.now() - s;
  console.log(`${engine}: ${received.toLocaleString()} signed deliveries in ${(ms / 1000).toFixed(1)} s = ${Math.round(received / (ms / 1000)).toLocaleString()} events/s (target ≥ 1,000/s)`);
} finally {
  server.close();
  await t.cleanup();
}
