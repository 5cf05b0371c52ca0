import { sql } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Executor } from '../store/store.ts';

/**
 * The prune steps. Each deletes at most one batch and says how many rows went, so the job can
 * pause between batches: a delete of a few hundred rows holds SQLite's write lock for
 * milliseconds and PostgreSQL's row locks for as long, never the minutes one large delete would.
 */

/** Rows of a table keyed by an integer id whose time column is before the cutoff. */
export async function pruneOlderThan(db: Executor, table: string, timeColumn: string, cutoff: number, batch: number, idColumn = 'id'): Promise<number> {
  const r = await sql`delete from ${sql.table(table)} where ${sql.ref(idColumn)} in (select ${sql.ref(idColumn)} from ${sql.table(table)} where ${sql.ref(timeColumn)} < ${cutoff} order by ${sql.ref(timeColumn)} limit ${batch})`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

const FINAL_STATES = ['delivered', 'failed', 'expired', 'cancelled', 'suppressed'];

/**
 * Finished messages (every recipient in a final state, the last change before the cutoff) of
 * the walked range, and the oldest creation time among the unfinished ones met.
 */
async function finishedAmong(db: Executor, ids: string[], cutoff: number): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const open = await db.selectFrom('delivery_recipients').select('message_id').distinct().where('message_id', 'in', ids)
    .where((eb) => eb.or([eb('state', 'not in', FINAL_STATES), eb('updated_at', '>=', cutoff)])).execute();
  const pending = await db.selectFrom('archive_pending').select('message_id').where('message_id', 'in', ids).execute();
  const blocked = new Set([...open.map((r) => r.message_id), ...pending.map((r) => r.message_id)]);
  return new Set(ids.filter((id) => !blocked.has(id)));
}

const CURSOR_KEY = 'retention.delivery_bodies.cursor';

type Position = [number, string];

/**
 * Empties the stored bodies of finished messages older than the cutoff (the row, its size and
 * its recipients stay for the delivery log and late bounces), walking by creation time. A
 * cursor in `settings` remembers up to where every message is done: it stops before the oldest
 * message still in the queue, so the next pass starts there, and no finished message is walked
 * again for longer than the queue's retry window.
 */
export class BodyPruner {
  readonly #store: Store;
  readonly #cutoff: number;
  readonly #batch: number;
  #at: Position | null = null;
  /** The last position before the first unfinished message met in this pass. */
  #settled: Position | null = null;
  #blocked = false;

  constructor(store: Store, cutoff: number, batch: number) {
    this.#store = store;
    this.#cutoff = cutoff;
    this.#batch = batch;
  }

  /** One batch; returns how many bodies were emptied, or null when the range is walked. */
  async step(): Promise<number | null> {
    const db = this.#store.db;
    if (!this.#at) {
      const row = await db.selectFrom('settings').select('value').where('key', '=', CURSOR_KEY).executeTakeFirst();
      this.#at = row ? (JSON.parse(row.value) as Position) : [0, ''];
    }
    const [fromAt, fromId] = this.#at;
    const rows = await db.selectFrom('delivery_messages').select(['id', 'created_at'])
      .where((eb) => eb.or([eb('created_at', '>', fromAt), eb.and([eb('created_at', '=', fromAt), eb('id', '>', fromId)])]))
      .where('created_at', '<', this.#cutoff).orderBy('created_at').orderBy('id').limit(this.#batch).execute();
    if (!rows.length) {
      await this.#save(this.#blocked ? this.#settled : this.#at);
      return null;
    }
    const finished = await finishedAmong(db, rows.map((r) => r.id), this.#cutoff);
    for (const r of rows) {
      if (this.#blocked) break;
      if (finished.has(r.id)) this.#settled = [Number(r.created_at), r.id];
      else this.#blocked = true;
    }
    const last = rows[rows.length - 1]!;
    this.#at = [Number(last.created_at), last.id];
    const ids = rows.filter((r) => finished.has(r.id)).map((r) => r.id);
    if (!ids.length) return 0;
    const lengthFn = this.#store.engine === 'postgres' ? sql<number>`octet_length(body)` : sql<number>`length(body)`;
    const r = await db.updateTable('delivery_messages').set({ body: Buffer.alloc(0), body_format: 0 }).where('id', 'in', ids).where(lengthFn, '>', 0).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async #save(p: Position | null): Promise<void> {
    if (!p) return;
    const value = JSON.stringify(p);
    await this.#store.db.insertInto('settings').values({ key: CURSOR_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }
}

/**
 * Finished messages older than the cutoff go whole: the message row and its recipients' queue
 * rows. Walks past unfinished ones (none should be this old: the queue gives up after days).
 */
export async function deleteFinishedMessages(store: Store, cutoff: number, batch: number): Promise<number> {
  const db = store.db;
  let from: [number, string] = [-1, ''];
  for (;;) {
    const rows = await db.selectFrom('delivery_messages').select(['id', 'created_at']).where('created_at', '<', cutoff)
      .where((eb) => eb.or([eb('created_at', '>', from[0]), eb.and([eb('created_at', '=', from[0]), eb('id', '>', from[1])])]))
      .orderBy('created_at').orderBy('id').limit(batch).execute();
    if (!rows.length) return 0;
    const last = rows[rows.length - 1]!;
    from = [Number(last.created_at), last.id];
    const finished = [...(await finishedAmong(db, rows.map((r) => r.id), cutoff))];
    if (!finished.length) continue;
    await store.transaction(async (trx) => {
      await trx.deleteFrom('delivery_recipients').where('message_id', 'in', finished).execute();
      await trx.deleteFrom('delivery_messages').where('id', 'in', finished).execute();
    });
    return finished.length;
  }
}

const REF = 1;
function refsOf(manifest: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < manifest.length) {
    if (manifest[at] === REF) {
      out.push(manifest.subarray(at + 1, at + 33).toString('hex'));
      at += 33;
    } else at += 5 + manifest.readUInt32BE(at + 1);
  }
  return out;
}

/**
 * Shared body parts no stored manifest names any more. A part written in the last hour is
 * left alone: the transaction that writes a part writes the manifest that names it, and may
 * still be open.
 */
export async function deleteUnreferencedParts(store: Store, cutoff: number, batch: number, pause: () => Promise<void> = async () => {}): Promise<number> {
  const db = store.db;
  const live = new Set<string>();
  let after = '';
  for (;;) {
    const rows = await db.selectFrom('delivery_messages').select(['id', 'tenant_id', 'body']).where('body_format', '=', 1).where('id', '>', after).orderBy('id').limit(1000).execute();
    if (!rows.length) break;
    for (const r of rows) for (const h of refsOf(Buffer.from(r.body))) live.add(`${r.tenant_id}\u0000${h}`);
    after = rows[rows.length - 1]!.id;
  }
  let n = 0;
  let from: [string, string] = ['', ''];
  for (;;) {
    const page = await db.selectFrom('delivery_parts').select(['tenant_id', 'hash', 'created_at'])
      .where((eb) => eb.or([eb('tenant_id', '>', from[0]), eb.and([eb('tenant_id', '=', from[0]), eb('hash', '>', from[1])])]))
      .orderBy('tenant_id').orderBy('hash').limit(batch).execute();
    if (!page.length) break;
    const last = page[page.length - 1]!;
    from = [last.tenant_id, last.hash];
    const dead = page.filter((c) => Number(c.created_at) < cutoff && !live.has(`${c.tenant_id}\u0000${c.hash}`));
    for (const d of dead) {
      const r = await db.deleteFrom('delivery_parts').where('tenant_id', '=', d.tenant_id).where('hash', '=', d.hash).executeTakeFirst();
      n += Number(r.numDeletedRows);
    }
    if (dead.length) await pause();
  }
  return n;
}
