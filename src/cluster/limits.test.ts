import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestStore } from '../testing/stores.ts';
import type { TestStore } from '../testing/stores.ts';
import { SmtpSink } from '../testing/smtp-sink.ts';
import { Egress } from '../delivery/outbound/egress.ts';
import { SharedLimits } from './limits.ts';

/** Shared limits on a real PostgreSQL database: several "nodes" (instances) on one store. */
let ts: TestStore;
let sink: SmtpSink;
const made: SharedLimits[] = [];

function node(nodeId: string, leaseMs = 20_000): SharedLimits {
  const l = new SharedLimits(ts.store, { nodeId, leaseMs, syncMs: 200 });
  made.push(l);
  return l;
}

before(async () => {
  ts = await createTestStore('postgres');
  sink = await SmtpSink.start({ starttls: false });
});
after(async () => {
  for (const l of made) await l.stop();
  await sink.close();
  await ts.cleanup();
});

test('connection slots: never more than the limit across nodes, freed on release and when the holder stops renewing', async () => {
  const [a, b, c] = [node('a'), node('b'), node('c')];
  const got = await Promise.all([a, b, c, a, b, c].map((n) => n.acquireConnection('ip|site1', 3)));
  const slots = got.filter((s): s is number => s !== null);
  assert.equal(slots.length, 3, `three of six asks get a slot (${JSON.stringify(got)})`);
  assert.equal(new Set(slots).size, 3, 'no slot is given twice');
  assert.equal(await b.acquireConnection('ip|site1', 3), null);
  // Another key has its own slots.
  assert.notEqual(await b.acquireConnection('ip|site2', 1), null);
  const cSlots = got.map((s, i) => ({ s, owner: [a, b, c][i % 3]! })).filter((x) => x.s !== null && x.owner === c);
  const aSlot = got.map((s, i) => ({ s, owner: [a, b, c][i % 3]! })).find((x) => x.s !== null && x.owner === a);
  if (aSlot) await a.releaseConnection('ip|site1', aSlot.s!);
  if (aSlot) assert.notEqual(await b.acquireConnection('ip|site1', 3), null, 'a released slot is taken at once');
  if (cSlots.length) {
    // c dies: its heartbeat stops, and its slots' leases run out.
    await ts.store.db.updateTable('cluster_slots').set({ expires_at: Date.now() - 1 }).where('owner', '=', 'c').execute();
    assert.notEqual(await b.acquireConnection('ip|site1', 3), null, "an expired holder's slot is taken");
  }
});

test('GCRA: batches from several nodes are spaced one interval apart, one round trip a batch', async () => {
  const [a, b] = [node('ra'), node('rb')];
  const perMinute = 6000; // 10 ms apart
  const starts: { at: number; n: number }[] = [];
  for (let i = 0; i < 10; i++) {
    const n = 1 + (i % 4);
    const who = i % 2 ? a : b;
    starts.push({ at: await who.takeRate('ip|rated', n, perMinute), n });
  }
  starts.sort((x, y) => x.at - y.at);
  for (let i = 1; i < starts.length; i++) {
    const prev = starts[i - 1]!;
    assert.ok(starts[i]!.at >= prev.at + prev.n * 10, `batch ${i} starts after the previous batch's sends (${starts[i]!.at} vs ${prev.at}+${prev.n * 10})`);
  }
  assert.equal(a.stats.rateTrips + b.stats.rateTrips, 10);
});

test("back-off: one node's 421s slow the site at the other node", async () => {
  const [a, b] = [node('ba'), node('bb')];
  const hosts = [{ host: '127.0.0.1', port: sink.port }];
  const limitsFor = () => ({ maxConnections: 4, messagesPerConnection: 100, messagesPerMinute: 600 });
  const ea = new Egress({ heloName: 'a.test', shared: a, limitsFor, idleMs: 200 });
  const eb = new Egress({ heloName: 'b.test', shared: b, limitsFor, idleMs: 200 });
  try {
    sink.setRule('throttled@example.org', { code: 421, enhanced: '4.7.0', text: 'Too many messages, slow down', stage: 'rcpt' });
    const job = { site: 'site-x', hosts, mailFrom: 'a@bank.test', message: Buffer.from('Subject: x\r\n\r\nx\r\n') };
    // b has used the site and sees it normal.
    const ok = await eb.send({ ...job, recipients: ['fine@example.org'] });
    assert.equal(ok.perRecipient[0]!.outcome, 'delivered');
    assert.equal(eb.status('site-x')?.state, 'normal');
    const r = await ea.send({ ...job, recipients: ['throttled@example.org'] });
    assert.equal(r.perRecipient[0]!.replyCode, 421);
    assert.notEqual(ea.status('site-x')?.state, 'normal');
    const start = Date.now();
    while (eb.status('site-x')?.state === 'normal' && Date.now() - start < 5000) await new Promise((res) => setTimeout(res, 50));
    const seen = eb.status('site-x')!;
    assert.notEqual(seen.state, 'normal', 'the other node slowed down too');
    assert.ok(seen.limits.messagesPerMinute <= 300, `its rate was halved (${seen.limits.messagesPerMinute}/min)`);
    assert.match(seen.lastReason ?? '', /421/);
  } finally {
    await ea.close();
    await eb.close();
  }
});
