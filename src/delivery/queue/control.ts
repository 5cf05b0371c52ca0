import type { Actor } from '../../audit/log.ts';
import { recordOperation } from '../../audit/log.ts';
import { forbidden, invalid, notFound } from '../../core/errors.ts';
import type { UpdateQueryBuilder, UpdateResult } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Executor, Store } from '../../store/store.ts';

export type PauseScope = 'account' | 'site';

function requireScope(scope: unknown): PauseScope {
  if (scope !== 'account' && scope !== 'site') throw invalid('scope must be account or site', [{ field: 'scope', message: 'account or site' }]);
  return scope;
}

function requireTarget(target: unknown): string {
  if (typeof target !== 'string' || !target.trim() || target.length > 300) throw invalid('target must be an account id or a site name', [{ field: 'target', message: 'required' }]);
  return target.trim();
}

/** Tenant-confined actors may act on their own accounts only; sites are shared, so administrators only. */
async function authorise(store: Store, actor: Actor, scope: PauseScope, target: string): Promise<string | null> {
  if (scope === 'site') {
    if (actor.tenantId || !['administrator', 'system'].includes(actor.role)) throw forbidden('only administrators pause or cancel a whole destination site');
    return null;
  }
  const account = await store.db.selectFrom('sending_accounts').select(['id', 'tenant_id']).where('id', '=', target).executeTakeFirst();
  if (!account || (actor.tenantId && actor.tenantId !== account.tenant_id)) throw notFound('account');
  if (actor.role === 'auditor' || actor.role === 'support') throw forbidden();
  return account.tenant_id;
}

/**
 * Holds back bulk mail of one account or one MX site. Transactional mail is never paused by
 * this: the claim of the transactional lane ignores pauses. Recipients stay queued; their
 * retry clock keeps running, so a long pause can end in expiry as RFC 5321 intends.
 */
export async function pauseBulk(store: Store, actor: Actor, scopeIn: unknown, targetIn: unknown, now = Date.now()): Promise<void> {
  const scope = requireScope(scopeIn);
  const target = requireTarget(targetIn);
  const tenantId = await authorise(store, actor, scope, target);
  await store.transaction(async (trx) => {
    await trx.insertInto('delivery_pauses').values({ scope, target, created_at: now, operator: actor.operator })
      .onConflict((oc) => oc.columns(['scope', 'target']).doNothing()).execute();
    await recordOperation(trx, actor, { operation: 'delivery.pause', objectType: scope, objectId: target, tenantId, description: `paused bulk delivery for ${scope} ${target}` }, now);
  });
}

export async function resumeBulk(store: Store, actor: Actor, scopeIn: unknown, targetIn: unknown, now = Date.now()): Promise<void> {
  const scope = requireScope(scopeIn);
  const target = requireTarget(targetIn);
  const tenantId = await authorise(store, actor, scope, target);
  await store.transaction(async (trx) => {
    await trx.deleteFrom('delivery_pauses').where('scope', '=', scope).where('target', '=', target).execute();
    await recordOperation(trx, actor, { operation: 'delivery.resume', objectType: scope, objectId: target, tenantId, description: `resumed bulk delivery for ${scope} ${target}` }, now);
  });
}

export async function listPauses(store: Store): Promise<{ scope: string; target: string; createdAt: number; operator: string }[]> {
  const rows = await store.db.selectFrom('delivery_pauses').selectAll().orderBy('created_at').execute();
  return rows.map((r) => ({ scope: r.scope, target: r.target, createdAt: r.created_at, operator: r.operator }));
}

/**
 * Cancels every queued bulk recipient of an account or site: each gets a `cancelled` event.
 * Rows leased by a sender right now are left alone (they are already on the wire); their
 * attempt finishes normally. Returns how many recipients were cancelled.
 */
export async function cancelBulk(store: Store, actor: Actor, scopeIn: unknown, targetIn: unknown, now = Date.now()): Promise<number> {
  const scope = requireScope(scopeIn);
  const target = requireTarget(targetIn);
  const tenantId = await authorise(store, actor, scope, target);
  return store.transaction(async (trx) => {
    const cancelled = await cancelQueued(trx, actor, (q) => q.where('lane', '=', 'bulk').where(scope === 'account' ? 'account_id' : 'site', '=', target), now);
    await recordOperation(trx, actor, {
      operation: 'delivery.cancel', objectType: scope, objectId: target, tenantId,
      description: `cancelled ${cancelled} queued bulk recipients for ${scope} ${target}`, details: { cancelled },
    }, now);
    return cancelled;
  });
}

type RecipientUpdate = UpdateQueryBuilder<Database, 'delivery_recipients', 'delivery_recipients', UpdateResult>;

/**
 * The one way queued recipients are cancelled: the rows `narrow` selects that are queued and
 * not leased by a sender right now (a leased one is on the wire; its attempt finishes normally)
 * become `cancelled`, each with a `cancelled` row in the delivery log. Runs in the caller's
 * transaction, so the cancel and what caused it commit together.
 */
async function cancelQueued(trx: Executor, actor: Actor, narrow: (q: RecipientUpdate) => RecipientUpdate, now: number): Promise<number> {
  const update: RecipientUpdate = trx.updateTable('delivery_recipients')
    .set({ state: 'cancelled', updated_at: now, last_text: `cancelled by ${actor.operator}`, lease_owner: null, lease_expires_at: null })
    .where('state', '=', 'queued')
    .where((w) => w.or([w('lease_owner', 'is', null), w('lease_expires_at', '<', now)]));
  const rows = await narrow(update)
    .returning(['id', 'message_id', 'tenant_id', 'account_id', 'recipient', 'attempts', 'site', 'lane'])
    .execute();
  for (let i = 0; i < rows.length; i += 1000) {
    await trx.insertInto('delivery_events').values(rows.slice(i, i + 1000).map((r) => ({
      at: now, tenant_id: r.tenant_id, account_id: r.account_id, message_id: r.message_id, recipient_id: r.id, recipient: r.recipient,
      lane: r.lane, attempt: r.attempts, source_ip: null, mx_host: null, site: r.site, reply_code: null, enhanced_status: null,
      text: `cancelled by ${actor.operator}`, outcome: 'cancelled', reason: 'cancelled',
    }))).execute();
  }
  return rows.length;
}

/**
 * Cancels the queued recipients of these messages (a campaign's, when it is cancelled), in the
 * caller's transaction: each gets a `cancelled` event in the delivery log. Returns how many.
 */
export async function cancelQueuedMessages(trx: Executor, actor: Actor, messageIds: readonly string[], now = Date.now()): Promise<number> {
  let cancelled = 0;
  for (let i = 0; i < messageIds.length; i += 500) {
    const ids = messageIds.slice(i, i + 500);
    cancelled += await cancelQueued(trx, actor, (q) => q.where('message_id', 'in', ids), now);
  }
  return cancelled;
}
