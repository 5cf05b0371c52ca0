import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestStore } from '../testing/stores.ts';
import type { TestStore } from '../testing/stores.ts';
import { SmtpSink } from '../testing/smtp-sink.ts';
import { makeSender } from '../delivery/queue/fixtures.ts';
import type { SenderFixture } from '../delivery/queue/fixtures.ts';
import { deliveries, startNode, submit, waitUntil } from './testing/nodes.ts';
import type { ClusterNode } from './testing/nodes.ts';

/** Three real `fanout serve` nodes on one fresh PostgreSQL database; one is SIGKILLed mid-run. */
let ts: TestStore;
let sink: SmtpSink;
let f: SenderFixture;
const nodes: ClusterNode[] = [];

before(async () => {
  ts = await createTestStore('postgres');
  f = await makeSender(ts.store, { name: 'loss-acct', domain: 'loss.bank.test' });
  // Slow replies (0.8 s a message) keep a backlog in every node's hands when the kill lands.
  sink = await SmtpSink.start({ starttls: false, default: { slowMs: 400 } });
});

after(async () => {
  for (const n of nodes) if (n.exitCode() === null) n.child.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  await sink?.close();
  await ts?.cleanup();
});

test('a node SIGKILLed mid-run: the others deliver its recipients within 30 s (default lease), nothing lost, duplicates only what it held', async (t) => {
  for (const name of ['loss-a', 'loss-b', 'loss-c']) nodes.push(await startNode({ name, dataDir: ts.dataDir, databaseUrl: ts.databaseUrl, sinkPort: sink.port }));
  const sent = await submit(nodes.map((n) => n.port), f, 'n', 450, { connections: 2 });
  assert.deepEqual(sent.refusals, []);
  await waitUntil(() => sink.counters.messages >= 60, 60_000, 'deliveries under way');
  // The victim is the node holding the most recipients at that moment.
  const counts = await ts.store.db.selectFrom('delivery_recipients').select(['lease_owner', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', '=', 'queued').where('lease_owner', 'is not', null).groupBy('lease_owner').execute();
  const busiest = counts.sort((a, b) => Number(b.n) - Number(a.n))[0]?.lease_owner;
  const victim = nodes.find((n) => n.name === busiest) ?? nodes[2]!;
  const survivors = nodes.filter((n) => n !== victim);
  victim.child.kill('SIGKILL');
  const killedAt = Date.now();
  await victim.exited;
  const held = await ts.store.db.selectFrom('delivery_recipients').select('recipient').where('lease_owner', '=', victim.name).where('state', '=', 'queued').execute();
  const heldAtKill = new Set(held.map((r) => r.recipient));
  assert.ok(heldAtKill.size > 0, 'the killed node held recipients when it died');
  const seenAtKill = deliveries(sink);
  const pending = [...heldAtKill].filter((r) => !seenAtKill.has(r));
  assert.ok(pending.length > 0, 'the killed node held recipients not yet delivered');
  // The destination speeds up: what remains is the wait for the dead node's leases.
  sink.defaultBehaviour = { slowMs: 5 };

  const recoveredMs = await waitUntil(() => {
    const seen = deliveries(sink);
    return pending.every((r) => seen.has(r));
  }, 45_000, "the killed node's recipients at the sink");
  const sinceKill = Date.now() - killedAt;
  assert.ok(sinceKill <= 30_000, `the killed node's recipients were delivered ${sinceKill} ms after the kill (at most 30 s)`);

  await waitUntil(() => {
    const seen = deliveries(sink);
    return [...sent.accepted].every((r) => seen.has(r));
  }, 60_000, 'every accepted recipient at the sink');
  const seen = deliveries(sink);
  const twice = [...seen].filter(([, n]) => n > 1).map(([r]) => r);
  for (const r of twice) assert.ok(heldAtKill.has(r), `${r} was delivered twice but the killed node did not hold it`);
  for (const n of survivors) assert.equal(n.exitCode(), null);
  t.diagnostic(`accepted ${sent.accepted.size} recipients; the killed node held ${heldAtKill.size} (${pending.length} not yet delivered); delivered by the others ${recoveredMs} ms after its death was noticed, ${sinceKill} ms after the kill; delivered twice: ${twice.length}`);
  for (const n of survivors) n.child.kill('SIGTERM');
  for (const n of survivors) assert.equal(await n.exited, 0);
});
