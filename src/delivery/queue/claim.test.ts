import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { describeEachEngine } from '../../testing/stores.ts';
import { DeliveryQueue } from './claim.ts';
import { enqueueMessages } from './enqueue.ts';
import { makeSender } from '../../testing/senders.ts';
import type { SenderFixture } from '../../testing/senders.ts';

describeEachEngine('queue leases', (get) => {
  let f: SenderFixture;
  const t0 = 1_900_000_000_000;

  before(async () => {
    f = await makeSender(get().store, { name: 'lease-acct', domain: 'lease.test' });
  });

  async function fill(n: number, now: number) {
    const items = Array.from({ length: n }, (_, i) => ({
      tenantId: f.tenantId, accountId: f.account.id, lane: 'bulk' as const, mailFrom: `x@${f.domain}`,
      recipients: [{ email: `r${i}@example.org` }], raw: Buffer.from('Subject: x\r\n\r\nx\r\n'),
    }));
    return enqueueMessages(get().store, items, { now });
  }

  test('a claim holds rows until its lease expires; then another node takes them; a stale holder cannot overwrite', async () => {
    const { store } = get();
    await fill(5, t0);
    const a = new DeliveryQueue(store, { owner: 'node-a', leaseMs: 60_000 });
    const b = new DeliveryQueue(store, { owner: 'node-b', leaseMs: 60_000 });
    const held = await a.claim('bulk', 100, t0);
    assert.equal(held.length, 5);
    assert.equal((await b.claim('bulk', 100, t0 + 1000)).length, 0, 'leased rows are not offered to other nodes');
    // node-a dies; after the lease node-b takes the rows.
    const taken = await b.claim('bulk', 100, t0 + 61_000);
    assert.deepEqual(taken.map((r) => r.id).sort(), held.map((r) => r.id).sort());
    // node-a wakes up late and reports a result: the row is node-b's now and keeps its state.
    await a.complete([{ row: held[0]!, outcome: 'failed', attempted: true, site: null, mxHost: null, sourceIp: null, replyCode: 550, enhancedStatus: '5.1.1', text: 'late', reason: null, at: t0 + 62_000 }]);
    const row = await store.db.selectFrom('delivery_recipients').selectAll().where('id', '=', held[0]!.id).executeTakeFirstOrThrow();
    assert.equal(row.state, 'queued');
    assert.equal(row.lease_owner, 'node-b');
    // A restarted node-b returns what it held at once, without waiting for the lease.
    assert.equal(await b.releaseOwned(t0 + 63_000), 5);
    assert.equal((await a.claim('bulk', 100, t0 + 63_000)).length, 5);
    await a.releaseOwned(t0 + 64_000);
    await store.db.updateTable('delivery_recipients').set({ state: 'cancelled' }).where('state', '=', 'queued').execute();
  });

  test('concurrent claims by two nodes never take the same row', async () => {
    const { store } = get();
    await fill(300, t0);
    const a = new DeliveryQueue(store, { owner: 'node-a', leaseMs: 60_000 });
    const b = new DeliveryQueue(store, { owner: 'node-b', leaseMs: 60_000 });
    const rounds = await Promise.all([a.claim('bulk', 40, t0 + 1), b.claim('bulk', 40, t0 + 1), a.claim('bulk', 40, t0 + 1), b.claim('bulk', 40, t0 + 1)]);
    const ids = rounds.flat().map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'no row claimed twice');
    assert.equal(ids.length, 160);
    const owners = await store.db.selectFrom('delivery_recipients').select(['lease_owner']).where('id', 'in', ids).execute();
    const byOwner = { a: rounds[0]!.length + rounds[2]!.length, b: rounds[1]!.length + rounds[3]!.length };
    assert.equal(owners.filter((o) => o.lease_owner === 'node-a').length, byOwner.a);
    assert.equal(owners.filter((o) => o.lease_owner === 'node-b').length, byOwner.b);
    await store.db.updateTable('delivery_recipients').set({ state: 'cancelled' }).where('state', '=', 'queued').execute();
  });

  test('transactional claims ignore bulk rows and bulk pauses', async () => {
    const { store } = get();
    await fill(3, t0);
    const q = new DeliveryQueue(store, { owner: 'node-a', leaseMs: 60_000 });
    assert.equal((await q.claim('transactional', 10, t0 + 1)).length, 0);
    assert.equal((await q.claim('bulk', 10, t0 + 1, { accounts: [f.account.id], sites: [] })).length, 0, 'paused account');
    assert.equal((await q.claim('bulk', 10, t0 + 1)).length, 3);
    await store.db.updateTable('delivery_recipients').set({ state: 'cancelled' }).where('state', '=', 'queued').execute();
  });
});
