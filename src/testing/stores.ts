import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { after, before, describe } from 'node:test';
import { migrations } from '../app/capabilities.ts';
import { Store } from '../store/store.ts';
import type { Engine } from '../store/dialect.ts';

/** Both engines: every store-touching test runs on each. PostgreSQL is required, never skipped. */
export const ENGINES: Engine[] = ['sqlite', 'postgres'];

export const ADMIN_POSTGRES_URL = process.env.FANOUT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestStore {
  engine: Engine;
  store: Store;
  dataDir: string;
  /** Set for PostgreSQL: the URL of the fresh database made for this test. */
  databaseUrl: string | null;
  cleanup(): Promise<void>;
}

function databaseUrlFor(name: string): string {
  const url = new URL(ADMIN_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh, migrated store: a new SQLite file, or a new PostgreSQL database dropped on cleanup. */
export async function createTestStore(engine: Engine): Promise<TestStore> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-test-'));
  let databaseUrl: string | null = null;
  let dbName: string | null = null;
  if (engine === 'postgres') {
    dbName = `fanout_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${dbName}`);
    } finally {
      await admin.end();
    }
    databaseUrl = databaseUrlFor(dbName);
  }
  const store = Store.open({ dataDir, databaseUrl });
  await store.migrate(migrations);
  return {
    engine,
    store,
    dataDir,
    databaseUrl,
    async cleanup() {
      await store.close();
      if (dbName) {
        const admin = new pg.Client({ connectionString: ADMIN_POSTGRES_URL });
        await admin.connect();
        try {
          await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        } finally {
          await admin.end();
        }
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Declares the same suite once per engine. `get()` returns the suite's store, made fresh
 * before the suite and removed after it.
 */
export function describeEachEngine(name: string, body: (get: () => TestStore) => void): void {
  for (const engine of ENGINES) {
    describe(`${name} [${engine}]`, () => {
      let current: TestStore | undefined;
      before(async () => {
        current = await createTestStore(engine);
      });
      after(async () => {
        await current?.cleanup();
      });
      body(() => {
        if (!current) throw new Error('test store not ready');
        return current;
      });
    });
  }
}
