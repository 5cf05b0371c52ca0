import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase } from 'kysely';

/**
 * What Kysely's SQLite driver calls on the database: better-sqlite3 with its `prepare` cached
 * by SQL text. Kysely prepares every query it runs; on the queue's hot paths that parse and
 * plan cost more than running the statement. A statement still iterating (a streamed
 * query) is busy and cannot run twice at once, so such a call gets a fresh one.
 */
export function cachingDatabase(sqlite: SqliteDatabase.Database, max = 500): KyselySqliteDatabase & { readonly cached: number } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
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
