import { PostgresAdapter } from 'kysely';
import { Store } from '../store/store.ts';
import type { Executor, Tx } from '../store/store.ts';
import type { Actor } from '../audit/index.ts';
import { forbidden } from '../core/errors.ts';

/** Services accept the store or an open transaction, so callers can compose them. */
export type StoreOrTx = Store | Executor;

export function executor(s: StoreOrTx): Executor {
  return s instanceof Store ? s.db : s;
}

/** Runs `fn` in the caller's transaction when there is one, else in a new one. */
export function inTransaction<T>(s: StoreOrTx, fn: (trx: Tx) => Promise<T>): Promise<T> {
  const db = executor(s);
  return db.isTransaction ? fn(db as Tx) : db.transaction().execute(fn);
}

const WRITERS: ReadonlySet<Actor['role']> = new Set(['administrator', 'operator', 'account', 'system']);

/** Actors bound to a tenant see only that tenant; auditors and support read but never write. */
export function assertAccess(actor: Actor, tenantId: string, write: boolean): void {
  if (actor.tenantId && actor.tenantId !== tenantId) throw forbidden('this tenant belongs to someone else');
  if (write && !WRITERS.has(actor.role)) throw forbidden(`the ${actor.role} role cannot change lists or subscribers`);
}

export function isPostgres(s: StoreOrTx): boolean {
  return executor(s).getExecutor().adapter instanceof PostgresAdapter;
}
