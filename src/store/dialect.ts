import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.ts';
import { cachingDatabase } from './statement-cache.ts';

export type Engine = 'sqlite' | 'postgres';

/** Where the store lives: one SQLite file under the data folder, or a PostgreSQL URL. */
export interface StoreLocation {
  dataDir: string;
  databaseUrl?: string | null;
}

export function engineOf(location: StoreLocation): Engine {
  return location.databaseUrl && /^postgres(ql)?:\/\//.test(location.databaseUrl) ? 'postgres' : 'sqlite';
}

// int8 (bigint, count(*)) comes back from pg as a string; our integers (epoch milliseconds,
// counters) stay far below 2^53, so parse them as numbers and keep both engines identical.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export interface OpenedDialect {
  engine: Engine;
  db: Kysely<Database>;
  /** The raw better-sqlite3 handle, for hot paths that batch many statements in one transaction. */
  sqlite?: SqliteDatabase.Database;
  pgPool?: pg.Pool;
}

/**
 * The store holds every tenant's mail: its folder is the Fanout user's alone (0700) and its
 * files too (0600). SQLite creates the -wal and -shm files with the database file's mode, so
 * the database file is made 0600 before SQLite first opens it; files left wider by earlier
 * versions are narrowed.
 */
function privateStoreFiles(dataDir: string, file: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if ((fs.statSync(dataDir).mode & 0o077) !== 0) fs.chmodSync(dataDir, 0o700);
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((fs.statSync(f).mode & 0o077) !== 0) fs.chmodSync(f, 0o600);
    } catch {
      // -wal and -shm exist only while the database is open
    }
  }
}

export function openDialect(location: StoreLocation): OpenedDialect {
  const engine = engineOf(location);
  if (engine === 'postgres') {
    // A connection attempt to a server that is away (restart, fail-over) gives up after 5 s,
    // so callers answer "try again later" instead of waiting without end.
    const pool = new pg.Pool({ connectionString: location.databaseUrl!, max: 10, connectionTimeoutMillis: 5000, keepAlive: true });
    // A connection that PostgreSQL closes (restart, fail-over, a dropped test database) must
    // not take the process down. The pool's 'error' covers idle connections only; a connection
    // in use (mid-transaction) emits 'error' on its client, which would be an unhandled event:
    // every client gets a listener of its own. The query in progress still fails (its caller
    // answers 451 or retries) and the pool discards the broken client and opens a new one.
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    return { engine, db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pgPool: pool };
  }
  const file = path.join(location.dataDir, 'fanout.db');
  privateStoreFiles(location.dataDir, file);
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode is durable against process crashes (SIGKILL); only an OS crash or
  // power loss can lose the last commits. FULL is selectable for machines that need that.
  sqlite.pragma(`synchronous = ${process.env.FANOUT_SQLITE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Checkpoint every 10,000 WAL pages (~40 MB) instead of SQLite's 1,000: queue rows and their
  // index pages change many times between checkpoints and are copied back once; measured in
  // the delivery benchmark as ~4% more messages a second.
  sqlite.pragma('wal_autocheckpoint = 10000');
  return { engine, db: new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingDatabase(sqlite) }) }), sqlite };
}
