import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { migrations } from '../app/capabilities.ts';
import { Store } from './store.ts';
import { describeEachEngine } from '../testing/stores.ts';

describeEachEngine('store', (get) => {
  test('migrations create the foundation tables and are idempotent', async () => {
    const { store } = get();
    const again = await store.migrate(migrations);
    assert.deepEqual(again, []);
    await store.db.insertInto('settings').values({ key: 'k', value: 'v' }).execute();
    const row = await store.db.selectFrom('settings').selectAll().where('key', '=', 'k').executeTakeFirstOrThrow();
    assert.equal(row.value, 'v');
  });

  test('a failed transaction leaves nothing behind', async () => {
    const { store } = get();
    await assert.rejects(store.transaction(async (trx) => {
      await trx.insertInto('settings').values({ key: 'rolled-back', value: '1' }).execute();
      throw new Error('boom');
    }), /boom/);
    const row = await store.db.selectFrom('settings').select('key').where('key', '=', 'rolled-back').executeTakeFirst();
    assert.equal(row, undefined);
  });

  test('big integers come back as numbers on both engines', async () => {
    const { store } = get();
    const r = await sql<{ n: number }>`select cast(1700000000000 as bigint) as n`.execute(store.db);
    assert.equal(r.rows[0]?.n, 1700000000000);
  });
});

test('SQLite runs in WAL mode with NORMAL sync and checkpoints every 10,000 pages', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-pragmas-'));
  const store = Store.open({ dataDir });
  try {
    assert.equal(store.sqlite?.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.sqlite?.pragma('synchronous', { simple: true }), 1);
    assert.equal(store.sqlite?.pragma('wal_autocheckpoint', { simple: true }), 10000);
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
