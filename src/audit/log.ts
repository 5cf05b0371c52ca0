import { createHash } from 'node:crypto';
import { PostgresAdapter, sql } from 'kysely';
import type { Executor, Tx } from '../store/store.ts';
import type { OperationLogTable } from './tables.ts';
import { redact } from './redact.ts';

/** Who acts: a console user, an API key, or the command line. */
export interface Actor {
  /** Shown as 操作人: a user name, `apikey:<prefix>` or `cli:<os user>`. */
  operator: string;
  clientIp: string;
  userId?: string | null;
  role: 'administrator' | 'operator' | 'auditor' | 'support' | 'account' | 'system';
  /** Set for actors confined to one tenant (operators, API keys). */
  tenantId?: string | null;
  /** Set for API keys: the sending account the key belongs to. */
  accountId?: string | null;
}

export interface OperationEntry {
  /** Dotted type, e.g. `tenant.create`, `account.password`, `user.login_failed`. */
  operation: string;
  objectType: string;
  objectId?: string | null;
  description: string;
  tenantId?: string | null;
  details?: Record<string, unknown>;
}

export const GENESIS_HASH = '0'.repeat(64);

type Row = Omit<OperationLogTable, 'id' | 'hash'>;

export function entryHash(row: Row): string {
  // A fixed field order: the chain must verify the same way forever.
  const material = JSON.stringify([row.prev_hash, row.at, row.operation, row.object_type, row.object_id, row.description, row.operator, row.client_ip, row.tenant_id, row.details]);
  return createHash('sha256').update(material).digest('hex');
}

// An arbitrary constant naming the operation log's advisory lock in PostgreSQL.
const PG_CHAIN_LOCK = 727_001;

/**
 * Appends one entry, chained to the previous one, inside the caller's transaction so the
 * entry and the change it describes commit or vanish together.
 */
export async function recordOperation(trx: Tx, actor: Actor, entry: OperationEntry, now = Date.now()): Promise<void> {
  if (isPostgres(trx)) {
    // Serialises writers across connections and nodes so the chain never forks.
    await sql`select pg_advisory_xact_lock(${PG_CHAIN_LOCK})`.execute(trx);
  }
  const last = await trx.selectFrom('operation_log').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const row: Row = {
    prev_hash: last?.hash ?? GENESIS_HASH,
    at: now,
    operation: entry.operation,
    object_type: entry.objectType,
    object_id: entry.objectId ?? null,
    description: entry.description,
    operator: actor.operator,
    client_ip: actor.clientIp,
    tenant_id: entry.tenantId ?? actor.tenantId ?? null,
    details: JSON.stringify(redact(entry.details ?? {})),
  };
  await trx.insertInto('operation_log').values({ ...row, hash: entryHash(row) }).execute();
}

function isPostgres(db: Executor): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first entry whose link is broken, with why. */
  firstBroken?: { id: number; at: number; reason: string };
}

/**
 * Where the chain starts once retention has pruned its oldest entries (`settings`, JSON
 * {id, prevHash}): the first entry kept and the hash it links to. The prune that set it is
 * itself an entry (`retention.operation_log`) naming the same anchor, so the anchor cannot be
 * moved without breaking the chain.
 */
export const OPERATION_LOG_ANCHOR_KEY = 'operation_log.anchor';

/** Walks the whole chain in id order (from the anchor, after pruning) and reports the first entry that does not link. */
export async function verifyOperationLog(db: Executor): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let lastId = 0;
  let checked = 0;
  const anchorRow = await db.selectFrom('settings').select('value').where('key', '=', OPERATION_LOG_ANCHOR_KEY).executeTakeFirst();
  const anchor = anchorRow ? (JSON.parse(anchorRow.value) as { id: number; prevHash: string }) : null;
  if (anchor) {
    const first = await db.selectFrom('operation_log').select(['id', 'at']).orderBy('id').limit(1).executeTakeFirst();
    if (!first || Number(first.id) !== anchor.id) return { ok: false, checked, firstBroken: { id: first ? Number(first.id) : 0, at: first ? Number(first.at) : 0, reason: 'the first entry is not the anchored one (entries after the pruned ones were removed)' } };
    const recorded = await db.selectFrom('operation_log').select('details').where('operation', '=', 'retention.operation_log').where('object_id', '=', String(anchor.id)).execute();
    if (!recorded.some((r) => (JSON.parse(r.details) as { anchorPrevHash?: string }).anchorPrevHash === anchor.prevHash)) {
      return { ok: false, checked, firstBroken: { id: anchor.id, at: Number(first.at), reason: 'the anchor is not the one the pruning recorded in the log' } };
    }
    prev = anchor.prevHash;
  }
  for (;;) {
    const rows = await db.selectFrom('operation_log').selectAll().where('id', '>', lastId).orderBy('id').limit(1000).execute();
    if (!rows.length) return { ok: true, checked };
    for (const r of rows) {
      if (r.prev_hash !== prev) return { ok: false, checked, firstBroken: { id: r.id, at: r.at, reason: 'previous-hash link does not match the entry before it (an entry was removed or reordered)' } };
      const { id: _id, hash, ...rest } = r;
      if (entryHash(rest) !== hash) return { ok: false, checked, firstBroken: { id: r.id, at: r.at, reason: 'content does not match its hash (the entry was altered)' } };
      prev = hash;
      lastId = r.id;
      checked++;
    }
  }
}
