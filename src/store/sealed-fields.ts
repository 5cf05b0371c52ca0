import { sql } from 'kysely';
import type { Store } from './store.ts';
import { SecretBox } from '../core/secret-box.ts';

/** A column that holds secrets, sealed with the store's SecretBox. */
export interface SealedField {
  table: string;
  column: string;
  /** The row's key column; with table and column it is the sealed value's additional data. */
  idColumn: string;
  /** When only some rows of the table hold secrets (settings). */
  ids?: string[];
}

export const PLATFORM_SECRET: SealedField = { table: 'settings', column: 'value', idColumn: 'key', ids: ['platform_secret'] };
export const DKIM_PRIVATE_KEY: SealedField = { table: 'dkim_keys', column: 'private_key_pem', idColumn: 'id' };
export const TOTP_SECRET: SealedField = { table: 'console_users', column: 'totp_secret', idColumn: 'id' };
export const TOTP_PENDING_SECRET: SealedField = { table: 'console_users', column: 'totp_pending_secret', idColumn: 'id' };

export const WEBHOOK_SECRET: SealedField = { table: 'webhook_endpoints', column: 'secret', idColumn: 'id' };
export const WEBHOOK_PREVIOUS_SECRET: SealedField = { table: 'webhook_endpoints', column: 'previous_secret', idColumn: 'id' };

/** Every secret Fanout keeps in the store. */
export const SEALED_FIELDS: SealedField[] = [PLATFORM_SECRET, DKIM_PRIVATE_KEY, TOTP_SECRET, TOTP_PENDING_SECRET, WEBHOOK_SECRET, WEBHOOK_PREVIOUS_SECRET];

const contextOf = (f: SealedField, id: string) => `${f.table}.${f.column}:${id}`;

export function seal(store: Store, field: SealedField, id: string, plaintext: string): string {
  return store.secrets.seal(plaintext, contextOf(field, id));
}

/** The plaintext of a stored value; a value from before sealing existed is returned as it is. */
export function unseal(store: Store, field: SealedField, id: string, stored: string): string {
  return SecretBox.isSealed(stored) ? store.secrets.open(stored, contextOf(field, id)) : stored;
}

interface Row { id: string; value: string | null }

async function rowsOf(store: Store, f: SealedField): Promise<Row[]> {
  const where = f.ids ? sql` where ${sql.ref(f.idColumn)} in (${sql.join(f.ids)})` : sql``;
  const res = await sql<Row>`select ${sql.ref(f.idColumn)} as id, ${sql.ref(f.column)} as value from ${sql.table(f.table)}${where}`.execute(store.db);
  return res.rows;
}

/** Re-seals every value for which `needs` says so; returns how many changed. */
async function reseal(store: Store, needs: (value: string) => boolean): Promise<number> {
  let changed = 0;
  for (const f of SEALED_FIELDS) {
    for (const row of await rowsOf(store, f)) {
      if (row.value === null || !needs(row.value)) continue;
      const next = seal(store, f, row.id, unseal(store, f, row.id, row.value));
      // Guarded by the old value: a concurrent change of the row wins over the re-seal.
      await sql`update ${sql.table(f.table)} set ${sql.ref(f.column)} = ${next} where ${sql.ref(f.idColumn)} = ${row.id} and ${sql.ref(f.column)} = ${row.value}`.execute(store.db);
      changed++;
    }
  }
  return changed;
}

/**
 * Seals secrets stored in plain text by earlier versions; runs on every start, after
 * migrations. The rows' old versions would stay readable in free pages (SQLite, its WAL) or
 * dead tuples (PostgreSQL) of the database files, so when anything was sealed the tables are
 * rewritten: SQLite's VACUUM after a truncating checkpoint, PostgreSQL's VACUUM FULL.
 */
export async function sealPlaintextSecrets(store: Store): Promise<number> {
  const sealed = await reseal(store, (v) => !SecretBox.isSealed(v));
  if (sealed === 0) return 0;
  if (store.sqlite) {
    store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    store.sqlite.exec('VACUUM');
    store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  } else {
    await sql`vacuum full ${sql.join([...new Set(SEALED_FIELDS.map((f) => f.table))].map((t) => sql.table(t)))}`.execute(store.db);
  }
  return sealed;
}

/** Re-seals every secret not sealed with the current key (key rotation). */
export function resealWithCurrentKey(store: Store): Promise<number> {
  return reseal(store, (v) => !store.secrets.isCurrent(v));
}

/** How many secrets each key seals, and how many are still plain text. */
export async function sealedStatus(store: Store): Promise<{ plaintext: number; byKey: Record<string, number> }> {
  const byKey: Record<string, number> = {};
  let plaintext = 0;
  for (const f of SEALED_FIELDS) {
    for (const row of await rowsOf(store, f)) {
      if (row.value === null) continue;
      const parsed = SecretBox.parse(row.value);
      if (!parsed) plaintext++;
      else byKey[parsed.keyId] = (byKey[parsed.keyId] ?? 0) + 1;
    }
  }
  return { plaintext, byKey };
}
