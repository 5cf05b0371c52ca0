import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase } from 'kysely';

/**
 * What Kysely's SQLite driver calls on the database: better-sqlite3 with its `prepare` cached
 * by SQL text. Kysely prepares every query it runs; on the queue's hot paths that parse and
 * plan cost more than running the statement. A statement still iterating (a streamed
 * query) is busy and cannot run twice at once, so such a call gets a fresh one.
 */
const NO_ROLLBACK = { reader: false, run: () => ({ changes: 0, lastInsertRowid: 0 }), all: () => [], iterate: () => [][Symbol.iterator]() } as unknown as SqliteDatabase.Statement;

export function cachingDatabase(sqlite: SqliteDatabase.Database, max = 500): KyselySqliteDatabase & { readonly cached: number } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_NOMEM):
      // Kysely's own ROLLBACK would then fail with "cannot rollback - no transaction is active"
      // and hide the real error. With no transaction open there is nothing to roll back.
      if (sql === 'rollback' && !sqlite.inTransaction) return NO_ROLLBACK;
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        // Most recently used last: the first entry is the one to evict.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = sqlite.prepare(sql);
      if (!hit) {
        cache.set(sql, stmt);
        if (cache.size > max) cache.delete(cache.keys().next().value!);
      }
      return stmt;
    },
    get cached() {
      return cache.size;
    },
  };
}
