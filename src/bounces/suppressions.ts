/**
 * The tenant's suppression list: addresses never to send to again (hard bounces, complaints,
 * unsubscribes, too many soft bounces, or added by hand), each with its reason and evidence.
 * Administrative adds and removals are written to the operation log in the same transaction.
 */
import { sql } from 'kysely';
import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { invalid, notFound } from '../core/errors.ts';
import type { Executor, Store, Tx } from '../store/store.ts';
import type { SuppressionTable } from './tables.ts';

export const SUPPRESSION_REASONS = ['hard_bounce', 'complaint', 'unsubscribe', 'soft_bounce_threshold', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface SuppressionView {
  id: number;
  tenantId: string;
  address: string;
  reason: string;
  bounceReason: string | null;
  evidence: Record<string, unknown>;
  source: string;
  createdAt: number;
}

function view(r: Omit<SuppressionTable, 'id'> & { id: number }): SuppressionView {
  let evidence: Record<string, unknown>;
  try {
    evidence = JSON.parse(r.evidence) as Record<string, unknown>;
  } catch {
    evidence = { text: r.evidence };
  }
  return { id: r.id, tenantId: r.tenant_id, address: r.address, reason: r.reason, bounceReason: r.bounce_reason, evidence, source: r.source, createdAt: r.created_at };
}

const ADDRESS = /^[^\s@<>()[\],;:"]{1,64}@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i;

/** The address as stored: trimmed, without angle brackets, lower-cased; a clear error when it is not an address. */
export function normaliseAddress(address: unknown, field = 'address'): string {
  if (typeof address !== 'string') throw invalid(`${field} must be an e-mail address`, [{ field, message: 'must be a string' }]);
  const a = address.trim().replace(/^<(.*)>$/, '$1').toLowerCase();
  if (a.length > 254 || !ADDRESS.test(a)) throw invalid(`${field} is not an e-mail address: ${address.slice(0, 100)}`, [{ field, message: 'not an e-mail address' }]);
  return a;
}

export interface SuppressInput {
  tenantId: string;
  address: string;
  reason: SuppressionReason;
  bounceReason?: string | null;
  evidence?: Record<string, unknown>;
  source: string;
  now?: number;
}

/**
 * Puts an address on the list unless it is there already (the first reason and evidence are
 * kept: they say why sending stopped). Returns true when it was added now.
 */
export async function suppress(trx: Executor, input: SuppressInput): Promise<boolean> {
  const address = normaliseAddress(input.address);
  const result = await trx.insertInto('suppressions').values({
    tenant_id: input.tenantId,
    address,
    reason: input.reason,
    bounce_reason: input.bounceReason ?? null,
    evidence: JSON.stringify(input.evidence ?? {}),
    source: input.source,
    created_at: input.now ?? Date.now(),
  }).onConflict((oc) => oc.columns(['tenant_id', 'address']).doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * For the delivery engine (matches its SuppressionCheck): which of `emails` the tenant must not
 * send to, email (as given) → reason.
 */
export async function suppressionCheck(trx: Executor, tenantId: string, emails: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (emails.length === 0) return out;
  const byLower = new Map<string, string[]>();
  for (const e of emails) {
    const k = e.trim().toLowerCase();
    byLower.set(k, [...(byLower.get(k) ?? []), e]);
  }
  const keys = [...byLower.keys()];
  // Chunked to stay under SQLite's bound-parameter limit on large batches.
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await trx.selectFrom('suppressions').select(['address', 'reason']).where('tenant_id', '=', tenantId).where('address', 'in', keys.slice(i, i + 500)).execute();
    for (const r of rows) for (const original of byLower.get(r.address) ?? []) out.set(original, r.reason);
  }
  return out;
}

export interface ListQuery {
  tenantId: string;
  /** Substring of the address (case-insensitive). */
  search?: string;
  reason?: string;
  limit?: number;
  offset?: number;
}

export async function listSuppressions(db: Executor, q: ListQuery): Promise<{ items: SuppressionView[]; total: number }> {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 1000);
  const offset = Math.max(q.offset ?? 0, 0);
  let base = db.selectFrom('suppressions').where('tenant_id', '=', q.tenantId);
  if (q.search) {
    // LIKE with the wildcards in the user's text escaped, so "a_b" finds only "a_b".
    const escaped = q.search.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
    base = base.where(sql<boolean>`address like ${`%${escaped}%`} escape '\\'`);
  }
  if (q.reason) base = base.where('reason', '=', q.reason);
  const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const rows = await base.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
  return { items: rows.map(view), total: Number(total?.n ?? 0) };
}

export async function getSuppression(db: Executor, tenantId: string, address: string): Promise<SuppressionView | null> {
  const row = await db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId).where('address', '=', normaliseAddress(address)).executeTakeFirst();
  return row ? view(row) : null;
}

/** Adds an address by hand (API or CLI), logged in the operation log. */
export async function addSuppression(store: Store, actor: Actor, input: { tenantId: string; address: string; note?: string; reason?: SuppressionReason }): Promise<SuppressionView> {
  const address = normaliseAddress(input.address);
  const reason = input.reason ?? 'manual';
  if (!SUPPRESSION_REASONS.includes(reason)) throw invalid(`unknown suppression reason: ${String(reason)}`, [{ field: 'reason', message: `one of ${SUPPRESSION_REASONS.join(', ')}` }]);
  const note = typeof input.note === 'string' ? input.note.slice(0, 500) : undefined;
  return store.transaction(async (trx: Tx) => {
    const tenant = await trx.selectFrom('tenants').select('id').where('id', '=', input.tenantId).executeTakeFirst();
    if (!tenant) throw notFound('tenant');
    const added = await suppress(trx, { tenantId: input.tenantId, address, reason, evidence: { addedBy: actor.operator, ...(note ? { note } : {}) }, source: actor.role === 'system' ? 'system' : 'api' });
    if (added) {
      await recordOperation(trx, actor, {
        operation: 'suppression.add', objectType: 'suppression', objectId: address, tenantId: input.tenantId,
        description: `suppressed ${address} (${reason})`, details: { reason, ...(note ? { note } : {}) },
      });
    }
    const row = await trx.selectFrom('suppressions').selectAll().where('tenant_id', '=', input.tenantId).where('address', '=', address).executeTakeFirstOrThrow();
    return view(row);
  });
}

/** Takes an address off the list, logged in the operation log; not_found when it was not on it. */
export async function removeSuppression(store: Store, actor: Actor, tenantId: string, address: string): Promise<void> {
  const a = normaliseAddress(address);
  await store.transaction(async (trx: Tx) => {
    const row = await trx.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId).where('address', '=', a).executeTakeFirst();
    if (!row) throw notFound('suppression');
    await trx.deleteFrom('suppressions').where('id', '=', row.id).execute();
    await recordOperation(trx, actor, {
      operation: 'suppression.remove', objectType: 'suppression', objectId: a, tenantId,
      description: `removed ${a} from the suppression list (was ${row.reason})`, details: { reason: row.reason, bounceReason: row.bounce_reason },
    });
  });
}

/** For the subscription capability: an unsubscribe suppresses the address for the tenant. */
export async function suppressUnsubscribe(trx: Executor, tenantId: string, address: string, evidence: Record<string, unknown> = {}): Promise<boolean> {
  return suppress(trx, { tenantId, address, reason: 'unsubscribe', evidence, source: 'unsubscribe' });
}
