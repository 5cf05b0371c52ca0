import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestStore } from '../testing/stores.ts';
import type { TestStore } from '../testing/stores.ts';
import { SmtpSink } from '../testing/smtp-sink.ts';
import { makeSender } from '../delivery/queue/fixtures.ts';
import type { SenderFixture } from '../delivery/queue/fixtures.ts';
import { deliveries, startNode, submit, waitUntil } from './testing/nodes.ts';
import type { ClusterNode } from './testing/nodes.ts';

/**
 * Three real `fanout serve` nodes on one fresh PostgreSQL database, one destination limited to
 * 2 connections and 1,200 messages a minute: the destination sees those limits, not three times them.
 */
let ts: TestStore;
let sink: SmtpSink;
let f: SenderFixture;
const nodes: ClusterNode[] = [];
const MAX_CONNECTIONS = 2;
const PER_MINUTE = 1200;

before(async () => {
  ts = await createTestStore('postgres');
  f = await makeSender(ts.store, { name: 'shape-acct', domain: 'shape.bank.test' });
  sink = await SmtpSink.start({ starttls: false, default: { slowMs: 5 } });
});

after(async () => {
  for (const n of nodes) if (n.exitCode() === null) n.child.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  await sink?.close();
  await ts?.cleanup();
});

test('connection and rate limits of a site hold across three nodes (within 10 %)', async (t) => {
  const config = { delivery: { shaping: { defaults: { maxConnections: MAX_CONNECTIONS, messagesPerMinute: PER_MINUTE } } } };
  for (const name of ['shape-a', 'shape-b', 'shape-c']) nodes.push(await startNode({ name, dataDir: ts.dataDir, databaseUrl: ts.databaseUrl, sinkPort: sink.port, config }));
  const sent = await submit(nodes.map((n) => n.port), f, 'h', 300, { connections: 2 });
  assert.equal(sent.accepted.size, 600);
  await waitUntil(() => {
    const seen = deliveries(sink);
    return [...sent.accepted].every((r) => seen.has(r));
  }, 120_000, 'every accepted recipient at the sink');

  const delivered = await ts.store.db.selectFrom('delivery_events').select('recipient').where('outcome', '=', 'delivered').execute();
  assert.equal(delivered.length, 600, 'each recipient delivered once');
  const times = sink.messages.map((m) => m.receivedAt).sort((a, b) => a - b);
  // The busiest 10-second window, and the whole run once it was under way.
  let busiest = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 10_000) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  const perWindow = (PER_MINUTE / 60) * 10;
  const overall = ((times.length - 1) / (times.at(-1)! - times[0]!)) * 60_000;
  t.diagnostic(`max simultaneous connections at the destination: ${sink.counters.maxConcurrentConnections} (limit ${MAX_CONNECTIONS}); busiest 10 s: ${busiest} messages (limit ${perWindow}); whole run ${overall.toFixed(0)}/min (limit ${PER_MINUTE}); connections opened: ${sink.counters.connections}`);
  assert.ok(sink.counters.maxConcurrentConnections <= MAX_CONNECTIONS, `at most ${MAX_CONNECTIONS} connections at once (seen ${sink.counters.maxConcurrentConnections})`);
  assert.ok(busiest <= perWindow * 1.1, `at most ${perWindow} messages in any 10 s, within 10 % (seen ${busiest})`);
  assert.ok(overall <= PER_MINUTE * 1.1, `the run's rate within 10 % of ${PER_MINUTE}/min (seen ${overall.toFixed(0)})`);
  assert.ok(busiest >= perWindow * 0.5, `the limit is used, not starved (busiest 10 s: ${busiest})`);
  for (const n of nodes) n.child.kill('SIGTERM');
  for (const n of nodes) assert.equal(await n.exited, 0);
  // A clean stop leaves no connection slot behind.
  const slots = await ts.store.db.selectFrom('cluster_slots').select('slot').where('owner', 'is not', null).execute();
  assert.deepEqual(slots, []);
});
