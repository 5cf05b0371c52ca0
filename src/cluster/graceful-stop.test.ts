import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachEngine } from '../testing/stores.ts';
import { SmtpSink } from '../testing/smtp-sink.ts';
import { makeSender } from '../delivery/queue/fixtures.ts';
import type { SenderFixture } from '../delivery/queue/fixtures.ts';
import { deliveries, startNode, submit, waitUntil } from './testing/nodes.ts';
import type { ClusterNode } from './testing/nodes.ts';

/**
 * SIGTERM while the destination answers slowly (2 s per reply, 4 s a message): the node exits
 * within its configured bound, and nothing it had handed to egress goes out twice.
 */
describeEachEngine('graceful stop against a slow destination', (get) => {
  let sink: SmtpSink;
  let f: SenderFixture;
  const started: ClusterNode[] = [];
  const STOP_SECONDS = 6;

  before(async () => {
    sink = await SmtpSink.start({ starttls: false, default: { slowMs: 2000 } });
    f = await makeSender(get().store, { name: 'stop-acct', domain: 'stop.bank.test' });
  });
  after(async () => {
    for (const n of started) if (n.exitCode() === null) n.child.kill('SIGKILL');
    await Promise.all(started.map((n) => n.exited));
    await sink.close();
  });

  test('exits within delivery.stopSeconds; a restart delivers the rest; nothing is delivered twice', async (t) => {
    const ts = get();
    const setup = { dataDir: ts.dataDir, databaseUrl: ts.databaseUrl, sinkPort: sink.port, config: { delivery: { stopSeconds: STOP_SECONDS } } };
    const node = await startNode({ ...setup, name: 'stop-node' });
    started.push(node);
    const sent = await submit([node.port], f, 's', 40, { connections: 4 });
    assert.equal(sent.accepted.size, 80);
    await waitUntil(() => sink.counters.messages >= 4, 30_000, 'first deliveries');
    const termAt = Date.now();
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0, node.output().slice(-3000));
    const stopMs = Date.now() - termAt;
    // The process's own guarantee: it exits at the latest 8 s after delivery.stopSeconds.
    assert.ok(stopMs <= (STOP_SECONDS + 8) * 1000, `stopped in ${stopMs} ms (bound ${STOP_SECONDS} s + 8 s)`);
    const leased = await ts.store.db.selectFrom('delivery_recipients').select('id').where('lease_owner', 'is not', null).where('state', '=', 'queued').execute();
    assert.equal(leased.length, 0, 'a graceful stop leaves no leases behind');
    const deliveredAtStop = sink.counters.messages;
    assert.ok(deliveredAtStop < 80, 'the stop came while mail was still queued');

    sink.defaultBehaviour = 'accept';
    const again = await startNode({ ...setup, name: 'stop-node' });
    started.push(again);
    await waitUntil(() => {
      const seen = deliveries(sink);
      return [...sent.accepted].every((r) => seen.has(r));
    }, 60_000, 'every accepted recipient at the sink');
    const twice = [...deliveries(sink)].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'nothing handed to egress before the stop went out again');
    t.diagnostic(`stopped ${stopMs} ms after SIGTERM (bound ${STOP_SECONDS} s); ${deliveredAtStop} of 80 delivered before the stop; the rest after the restart, none twice`);
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0);
  });
});
