import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEachEngine } from '../testing/stores.ts';
import { SharedWindowLimiter, StoreCounters } from './counters.ts';
import { SharedAuthLockout } from '../delivery/submission/limits.ts';

describeEachEngine('counters kept in the store', (get) => {
  test('two nodes share one window: the limit holds for both together, and a new window starts afresh', async () => {
    const { store } = get();
    const nodeA = new SharedWindowLimiter(store, 'form', 3, 60_000);
    const nodeB = new SharedWindowLimiter(store, 'form', 3, 60_000);
    const t0 = 1_000_000;
    assert.equal(await nodeA.take('1.2.3.4', t0), null);
    assert.equal(await nodeB.take('1.2.3.4', t0 + 1), null);
    assert.equal(await nodeA.take('1.2.3.4', t0 + 2), null);
    assert.equal(await nodeB.take('1.2.3.4', t0 + 3_000), 57, 'the fourth, at the other node, waits out the window');
    assert.equal(await nodeA.take('5.6.7.8', t0 + 3_000), null, 'another key counts apart');
    assert.equal(await nodeA.take('1.2.3.4', t0 + 60_000), null, 'a new window');
  });

  test('AUTH lock-out across nodes: failures at two nodes add up, a success clears, the lock lasts a full length from the last failure', async () => {
    const { store } = get();
    const counters = new StoreCounters(store);
    const a = new SharedAuthLockout(counters, 'auth', 3, 60);
    const b = new SharedAuthLockout(new StoreCounters(store), 'auth', 3, 60);
    const t0 = 2_000_000;
    await a.fail('alice\u0000127.0.0.1', t0);
    await b.fail('alice\u0000127.0.0.1', t0 + 10_000);
    assert.equal(await a.lockedFor('alice\u0000127.0.0.1', t0 + 10_001), 0);
    await b.succeed('alice\u0000127.0.0.1');
    await a.fail('alice\u0000127.0.0.1', t0 + 11_000);
    await b.fail('alice\u0000127.0.0.1', t0 + 12_000);
    assert.equal(await b.lockedFor('alice\u0000127.0.0.1', t0 + 12_001), 0, 'a success started the count again');
    await a.fail('alice\u0000127.0.0.1', t0 + 20_000);
    assert.equal(await b.lockedFor('alice\u0000127.0.0.1', t0 + 20_000), 60, 'locked at the other node, for a full length');
    assert.equal(await b.lockedFor('alice\u0000127.0.0.1', t0 + 80_001), 0, 'and free after it');
  });
});
