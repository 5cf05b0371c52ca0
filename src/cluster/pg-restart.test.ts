import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { migrations } from '../app/capabilities.ts';
import { Store } from '../store/store.ts';
import { SmtpSink } from '../testing/smtp-sink.ts';
import { startPrivatePostgres } from '../testing/private-postgres.ts';
import type { PrivatePostgres } from '../testing/private-postgres.ts';
import { makeSender } from '../delivery/queue/fixtures.ts';
import type { SenderFixture } from '../delivery/queue/fixtures.ts';
import { deliveries, nodeDataDir, startNode, submit, waitUntil } from './testing/nodes.ts';
import type { ClusterNode } from './testing/nodes.ts';

/**
 * PostgreSQL restarted under load, with two real `fanout serve` nodes on it. The server is a
 * private one the test starts itself (the machine's shared server is never restarted).
 */
let pgServer: PrivatePostgres;
let store: Store;
let dataDir: string;
let databaseUrl: string;
let sink: SmtpSink;
let f: SenderFixture;
const nodes: ClusterNode[] = [];

before(async () => {
  pgServer = await startPrivatePostgres();
  databaseUrl = await pgServer.createDatabase('fanout_restart');
  dataDir = nodeDataDir();
  store = Store.open({ dataDir, databaseUrl });
  await store.migrate(migrations);
  f = await makeSender(store, { name: 'restart-acct', domain: 'restart.bank.test' });
  // A little slow, so that mail is on the wire and in flight when the database goes away.
  sink = await SmtpSink.start({ starttls: false, default: { slowMs: 10 } });
});

after(async () => {
  for (const n of nodes) if (n.exitCode() === null) n.child.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  await store?.close().catch(() => {});
  await sink?.close();
  pgServer?.destroy();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

test('PostgreSQL restarted mid-run: no node exits, clients see only 4xx while it is away, every accepted message is delivered', async (t) => {
  for (const name of ['restart-a', 'restart-b']) {
    nodes.push(await startNode({ name, dataDir, databaseUrl, sinkPort: sink.port, config: { delivery: { leaseSeconds: 10 } } }));
  }
  let restartedAt = 0;
  let downMs = 0;
  let submittedAtRestart = 0;
  const restart = (async () => {
    await waitUntil(() => sink.counters.messages >= 80, 60_000, 'deliveries under way');
    const t0 = Date.now();
    submittedAtRestart = sink.counters.messages;
    pgServer.stop();
    await new Promise((r) => setTimeout(r, 2500));
    pgServer.start();
    restartedAt = Date.now();
    downMs = restartedAt - t0;
  })();
  const sent = await submit(nodes.map((n) => n.port), f, 'pg', 500, { connections: 3, pauseMs: 5 });
  await restart;
  assert.ok(restartedAt > 0 && submittedAtRestart < sent.accepted.size, 'the restart came while mail was still being delivered');

  // Back in service: after the restart every message is accepted again.
  const later = await submit(nodes.map((n) => n.port), f, 'later', 40, { connections: 2 });
  assert.deepEqual(later.refusals, [], 'once the store is back, nothing is refused');
  assert.equal(later.accepted.size, 80);
  for (const r of later.accepted) sent.accepted.add(r);

  const recovery = await waitUntil(() => {
    const seen = deliveries(sink);
    return [...sent.accepted].every((r) => seen.has(r));
  }, 90_000, 'every accepted recipient at the sink');
  const seen = deliveries(sink);
  const twice = [...seen].filter(([, n]) => n > 1).length;

  for (const n of nodes) assert.equal(n.exitCode(), null, `${n.name} is still running:\n${n.output().slice(-3000)}`);
  const wrong = sent.refusals.filter((c) => c < 400 || c >= 500);
  assert.deepEqual(wrong, [], 'while the store was away clients were told only to try again later (4xx)');
  assert.ok(sent.accepted.size > 0);
  const left = await store.db.selectFrom('delivery_recipients').select('recipient').where('state', '=', 'queued').execute();
  assert.deepEqual(left.map((r) => r.recipient).filter((r) => sent.accepted.has(r)), [], 'no accepted recipient is left queued');
  const outage = nodes.map((n) => (n.output().match(/claiming work failed/g) ?? []).length);
  assert.ok(outage.some((c) => c > 0), 'the nodes noticed the store was away');
  t.diagnostic(`database down ${downMs} ms; accepted ${sent.accepted.size} recipients; refusals ${JSON.stringify(Object.fromEntries(sent.refusals.reduce((m, c) => m.set(c, (m.get(c) ?? 0) + 1), new Map<number, number>())))}; dropped ${sent.dropped}; all delivered ${recovery} ms after submission ended; delivered twice: ${twice}`);

  for (const n of nodes) n.child.kill('SIGTERM');
  for (const n of nodes) assert.equal(await n.exited, 0, n.output().slice(-3000));
});
