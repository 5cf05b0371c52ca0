import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEachEngine } from '../testing/stores.ts';
import { recordOperation, verifyOperationLog } from './log.ts';
import type { Actor } from './log.ts';
import { listOperations } from './queries.ts';

const admin: Actor = { operator: 'alice', clientIp: '10.0.0.5', role: 'administrator' };

describeEachEngine('operation log', (get) => {
  test('entries chain, list newest first, redact secrets and filter', async () => {
    const { store } = get();
    for (let i = 0; i < 5; i++) {
      await store.transaction((trx) => recordOperation(trx, admin, {
        operation: i % 2 ? 'account.password' : 'tenant.create', objectType: i % 2 ? 'account' : 'tenant', objectId: `o${i}`,
        description: `op ${i}`, tenantId: 'tn_1', details: { password: 'hunter2', nested: { apiKey: 'abc', name: 'n' } },
      }, 1_000 + i));
    }
    const all = await listOperations(store.db, { limit: 3 });
    assert.deepEqual(all.items.map((e) => e.description), ['op 4', 'op 3', 'op 2']);
    assert.ok(all.nextBefore);
    const next = await listOperations(store.db, { limit: 3, before: all.nextBefore });
    assert.deepEqual(next.items.map((e) => e.description), ['op 1', 'op 0']);
    assert.equal(next.nextBefore, null);
    assert.deepEqual(all.items[0]?.details, { password: '[redacted]', nested: { apiKey: '[redacted]', name: 'n' } });
    const pw = await listOperations(store.db, { operation: 'account.password', from: 1_002, to: 1_004 });
    assert.deepEqual(pw.items.map((e) => e.objectId), ['o3']);
    assert.deepEqual(await verifyOperationLog(store.db), { ok: true, checked: 5 });
  });

  test('verification names the first altered or removed entry', async () => {
    const { store } = get();
    const rows = await store.db.selectFrom('operation_log').select(['id']).orderBy('id').execute();
    const third = rows[2]!.id;
    await store.db.updateTable('operation_log').set({ description: 'forged' }).where('id', '=', third).execute();
    let result = await verifyOperationLog(store.db);
    assert.equal(result.ok, false);
    assert.equal(result.firstBroken?.id, third);
    assert.match(result.firstBroken!.reason, /altered/);
    await store.db.updateTable('operation_log').set({ description: 'op 2' }).where('id', '=', third).execute();
    assert.equal((await verifyOperationLog(store.db)).ok, true);
    await store.db.deleteFrom('operation_log').where('id', '=', rows[1]!.id).execute();
    result = await verifyOperationLog(store.db);
    assert.equal(result.firstBroken?.id, third);
    assert.match(result.firstBroken!.reason, /removed/);
  });

  test('an entry rolls back with its transaction', async () => {
    const { store } = get();
    const before = (await listOperations(store.db, {})).items.length;
    await assert.rejects(store.transaction(async (trx) => {
      await recordOperation(trx, admin, { operation: 'x', objectType: 'x', description: 'never' });
      throw new Error('abort');
    }));
    assert.equal((await listOperations(store.db, {})).items.length, before);
  });
});
