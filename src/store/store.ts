import { Migrator } from 'kysely';
import type { Kysely, Migration, MigrationProvider, Transaction } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import type pg from 'pg';
import { SecretBox } from '../core/secret-box.ts';
import { sealPlaintextSecrets } from '../core/sealed-fields.ts';
import { openDialect } from './dialect.ts';
import type { Engine, StoreLocation } from './dialect.ts';
import type { StoreMigration } from './migrations/index.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the store or an open transaction: query functions accept both. */
export type Executor = Kysely<Database>;

/**
 * The one store seam: the same Kysely API whether the rows live in the embedded SQLite file
 * or in PostgreSQL. Capabilities write their queries against `db` and never branch on engine
 * except where the SQL really differs (locking, upserts), which they keep next to the query.
 */
export class Store {
  readonly engine: Engine;
  readonly db: Db;
  readonly sqlite: SqliteDatabase.Database | undefined;
  readonly pgPool: pg.Pool | undefined;
  /** Seals and opens the secrets kept in the store, with a key kept outside it. */
  readonly secrets: SecretBox;
  #closed = false;
  #reclaimedAt = 0;

  private constructor(engine: Engine, db: Db, secrets: SecretBox, sqlite?: SqliteDatabase.Database, pgPool?: pg.Pool) {
    this.engine = engine;
    this.db = db;
    this.secrets = secrets;
    this.sqlite = sqlite;
    this.pgPool = pgPool;
  }

  /**
   * Opens the store and its secret key ring: `secretKey` (FANOUT_SECRET_KEY) when given,
   * otherwise the key file (`secretKeyFile`, default `<dataDir>/secret.key`).
   */
  static open(location: StoreLocation & { secretKey?: string | null; secretKeyFile?: string | null }): Store {
    const secrets = SecretBox.load({ key: location.secretKey, keyFile: location.secretKeyFile, dataDir: location.dataDir });
    const opened = openDialect(location);
    return new Store(opened.engine, opened.db, secrets, opened.sqlite, opened.pgPool);
  }

  /**
   * Applies every pending migration of `migrations` (the store's own and every capability's, as
   * the composition root collects them), then seals any secret an earlier version stored in
   * plain text; returns the names of the migrations applied now.
   */
  async migrate(migrations: readonly StoreMigration[]): Promise<string[]> {
    const names = new Set<string>();
    for (const m of migrations) {
      if (names.has(m.name)) throw new Error(`two migrations are named ${m.name}`);
      names.add(m.name);
    }
    const engine = this.engine;
    const provider: MigrationProvider = {
      async getMigrations() {
        const all: Record<string, Migration> = {};
        for (const m of migrations) all[m.name] = { up: (db) => m.up(db, engine) };
        return all;
      },
    };
    const migrator = new Migrator({ db: this.db, provider, migrationTableName: 'schema_migrations', migrationLockTableName: 'schema_migrations_lock', allowUnorderedMigrations: true });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    await sealPlaintextSecrets(this);
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /**
   * After a write failed for lack of space: SQLite moves the WAL's pages into the database
   * and truncates the WAL, so space freed on the disk is usable at once (a WAL below the
   * auto-checkpoint threshold would otherwise keep its size). At most once a second.
   */
  reclaimSpace(now = Date.now()): void {
    if (!this.sqlite || now - this.#reclaimedAt < 1000) return;
    this.#reclaimedAt = now;
    try {
      this.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Still full, or a reader holds the WAL: tried again after the next failure.
    }
  }

  transaction<T>(fn: (trx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.db.destroy();
  }
}
