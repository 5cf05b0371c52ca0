import assert from 'node:assert/strict';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { cachingDatabase } from './statement-cache.ts';

test('statement cache: one statement per SQL text, a fresh one while the cached one iterates, bounded', () => {
  const sqlite = new SqliteDatabase(':memory:');
  sqlite.exec('create table t (n integer)');
  const db = cachingDatabase(sqlite, 3);
  const insert = db.prepare('insert into t (n) values (?)');
  assert.equal(db.prepare('insert into t (n) values (?)'), insert, 'the same text gives the cached statement');
  for (let n = 1; n <= 3; n++) insert.run([n]);

  const select = db.prepare('select n from t order by n');
  const it = select.iterate([]);
  assert.equal((it.next().value as { n: number }).n, 1);
  // The cached statement is mid-iteration: running the same text again must not fail.
  const again = db.prepare('select n from t order by n');
  assert.notEqual(again, select);
  assert.deepEqual(again.all([]), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  assert.deepEqual([...it].map((r) => (r as { n: number }).n), [2, 3]);
  assert.equal(db.prepare('select n from t order by n'), select, 'free again once the iteration ended');

  db.prepare('select 1');
  db.prepare('select 2');
  assert.equal(db.cached, 3, 'the least recently used statement is dropped past the bound');
  assert.notEqual(db.prepare('insert into t (n) values (?)'), insert, 'the evicted text is prepared again');
  db.close();
});
