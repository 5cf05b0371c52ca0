// Does pruning slow delivery? One run, two phases on the same store: BENCH_PRUNE_MESSAGES
// messages (default 2,000) enqueued and delivered by the real sender (DKIM-signed, to a
// loopback sink) alone, then again while the retention job prunes BENCH_PRUNE_ROWS expired
// delivery events (default 200,000; the target is 10 million) and as many expired archived
// bodies. Prints messages per second in each phase and how far the prune got.
// BENCH_ENGINE=sqlite|postgres (default sqlite).
import { sql } from 'kysely';
import { loadAppConfig } from '../src/app/capabilities.ts';
import { enqueueMessages } from '../src/delivery/index.ts';
import { makeSender } from '../src/testing/senders.ts';
import { startTestSender } from '../src/testing/sender-harness.ts';
import { runRetention } from '../src/retention/index.ts';
import type { Engine } from '../src/store/dialect.ts';
import type { Store } from '../src/store/store.ts';
import { SmtpSink } from '../src/testing/smtp-sink.ts';
import { benchStore, fillArchive } from './archive-fixture.ts';

const messages = Number(process.env.BENCH_PRUNE_MESSAGES ?? 2000);
const rows = Number(process.env.BENCH_PRUNE_ROWS ?? 200_000);
const engine = (process.env.BENCH_ENGINE ?? 'sqlite') as Engine;
const DAY = 86_400_000;

async function fillEvents(store: Store, n: number, at: number): Promise<void> {
  const series = store.engine === 'postgres'
    ? sql`select g as i from generate_series(1, ${n}) g`
    : sql`with recursive s(i) as (select 1 union all select i + 1 from s where i < ${n}) select i from s`;
  await sql`insert into delivery_events (at, tenant_id, account_id, message_id, recipient_id, recipient, lane, attempt, outcome)
    select ${at} + i, 'tn_old', 'ac_old', 'msg_old' || i, 'rc_old' || i, 'old' || i || '@client.example', 'transactional', 1, 'delivered' from (${series}) as t`.execute(store.db);
}

const b = await benchStore(engine);
const sink = await SmtpSink.start({ starttls: false, capture: false });
try {
  const f = await makeSender(b.store, { name: 'prune-bench', domain: 'prune.bench.test' });
  const raw = (i: number) => Buffer.from(`From: n@${f.domain}\r\nTo: c${i}@client.example\r\nSubject: Statement ${i}\r\n\r\n${'Your statement. '.repeat(60)}\r\n`);
  const deliver = async (label: string): Promise<number> => {
    const before = sink.counters.messages;
    const t0 = performance.now();
    for (let i = 0; i < messages; i += 200) {
      await enqueueMessages(b.store, Array.from({ length: Math.min(200, messages - i) }, (_, k) => ({ tenantId: f.tenantId, accountId: f.account.id, lane: 'transactional' as const, mailFrom: `n@${f.domain}`, recipients: [{ email: `c${i + k}@client.example` }], raw: raw(i + k) })));
    }
    const h = await startTestSender(b.store, sink.port, { limits: { maxConnections: 8, messagesPerConnection: 1000, messagesPerMinute: 0 } });
    while (sink.counters.messages - before < messages) await new Promise((r) => setTimeout(r, 20));
    const s = (performance.now() - t0) / 1000;
    await h.stop();
    console.log(`  ${label.padEnd(28)} ${messages} messages in ${s.toFixed(2)} s: ${(messages / s).toFixed(0)} msg/s`);
    return messages / s;
  };
  console.log(`[${engine}] filling ${rows.toLocaleString()} expired delivery events and ${rows.toLocaleString()} expired archived messages ...`);
  const now = Date.now();
  await fillEvents(b.store, rows, now - 400 * DAY);
  await fillArchive(b.store, rows, { end: now - DAY, days: 30, expiredEvery: 1, tenantId: 'tn_old' });
  await deliver('without pruning');
  const config = { ...loadAppConfig({ env: {}, file: null }).retention, deliveryBodiesHours: 0 };
  let pruneDone = 0;
  const t0 = performance.now();
  const prune = runRetention(b.store, config).then((r) => {
    pruneDone = performance.now();
    return r;
  });
  const during = await deliver('while pruning');
  const leftAfterDelivery = await b.store.db.selectFrom('delivery_events').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', 'tn_old').executeTakeFirstOrThrow();
  const report = await prune;
  console.log(`  prune: ${report.deliveryEvents.toLocaleString()} events and ${report.archivedBodies.toLocaleString()} archived bodies in ${((pruneDone - t0) / 1000).toFixed(1)} s (batch ${config.batchSize}, pause ${config.pauseMs} ms); ${Number(leftAfterDelivery.n).toLocaleString()} events were still to go when the delivery phase ended`);
  const alone = await deliver('without pruning, again');
  console.log(`  throughput while pruning: ${((during / alone) * 100).toFixed(0)} % of without (target >= 90 %)`);
} finally {
  await sink.close();
  await b.drop();
}
