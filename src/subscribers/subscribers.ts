import type { Actor } from '../audit/index.ts';
import { emitWebhookEvents } from '../webhooks/index.ts';
import { recordOperation } from '../audit/index.ts';
import { invalid, notFound } from '../core/errors.ts';
import type { Executor, Tx } from '../store/store.ts';
import { checkAttributes, mergeAttributes, parseAttributes } from './attributes.ts';
import type { Attributes } from './attributes.ts';
import { assertAccess, executor, inTransaction, isPostgres } from './db.ts';
import type { StoreOrTx } from './db.ts';
import { checkEmail } from '../core/email.ts';
import { requireList } from './lists.ts';
import type { MemberStatus, SubscriberTable } from './tables.ts';

export interface Membership {
  listId: string;
  status: MemberStatus;
  source: string;
  createdAt: number;
  updatedAt: number;
  confirmedAt: number | null;
  unsubscribedAt: number | null;
}

export interface SubscriberView {
  id: number;
  tenantId: string;
  email: string;
  name: string | null;
  attributes: Attributes;
  createdAt: number;
  updatedAt: number;
}

export interface MemberView extends SubscriberView {
  status: MemberStatus;
}

type SubscriberRow = Omit<SubscriberTable, 'id'> & { id: number };

function view(r: SubscriberRow): SubscriberView {
  return { id: r.id, tenantId: r.tenant_id, email: r.email, name: r.name, attributes: parseAttributes(r.attributes), createdAt: r.created_at, updatedAt: r.updated_at };
}

function requireEmail(raw: unknown): string {
  const c = checkEmail(typeof raw === 'string' ? raw : '');
  if (!c.ok) throw invalid(c.reason, [{ field: 'email', message: c.reason }]);
  return c.email;
}

function checkSubscriberName(name: unknown): string | null | undefined {
  if (name === undefined) return undefined;
  if (name === null || name === '') return null;
  if (typeof name !== 'string' || name.length > 256) throw invalid('name must be a string of at most 256 characters', [{ field: 'name', message: 'invalid' }]);
  return name.trim() || null;
}

async function lockSubscriber(trx: Tx, tenantId: string, email: string): Promise<SubscriberRow | undefined> {
  let q = trx.selectFrom('subscribers').selectAll().where('tenant_id', '=', tenantId).where('email', '=', email);
  if (isPostgres(trx)) q = q.forUpdate();
  return q.executeTakeFirst();
}

/**
 * Inserts or updates the tenant's subscriber (attributes merged, null removes one) and returns it.
 * Concurrent callers for one new address both succeed: the insert is an upsert.
 */
async function upsertSubscriber(trx: Tx, tenantId: string, email: string, name: string | null | undefined, attributes: Attributes, now: number): Promise<{ row: SubscriberRow; created: boolean }> {
  const existing = await lockSubscriber(trx, tenantId, email);
  const attrs = mergeAttributes(existing?.attributes, attributes);
  const nextName = name === undefined ? existing?.name ?? null : name;
  const row = await trx.insertInto('subscribers')
    .values({ tenant_id: tenantId, email, name: nextName, attributes: attrs, import_id: null, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['tenant_id', 'email']).doUpdateSet({ name: nextName, attributes: attrs, updated_at: now }))
    .returningAll().executeTakeFirstOrThrow();
  return { row: row as SubscriberRow, created: !existing };
}

export interface SubscribeInput {
  tenantId: string;
  listId: string;
  email: string;
  name?: string | null;
  attributes?: Attributes;
  /** Default: unconfirmed on a double opt-in list, else subscribed. */
  status?: 'subscribed' | 'unconfirmed';
  /** api, form, console. */
  source?: string;
}

export interface SubscribeResult {
  subscriber: SubscriberView;
  status: MemberStatus;
  /** True when the address was not on the list before. */
  added: boolean;
  /** The status the membership had before, if any. */
  previousStatus: MemberStatus | null;
}

/**
 * Puts an address on a list for a business system, the console or the hosted form. An
 * explicit subscribe is consent again, so it also brings back an unsubscribed address; a
 * request for `unconfirmed` never demotes someone already subscribed.
 */
export async function subscribe(s: StoreOrTx, actor: Actor, input: SubscribeInput): Promise<SubscribeResult> {
  assertAccess(actor, input.tenantId, true);
  const email = requireEmail(input.email);
  const name = checkSubscriberName(input.name);
  const attributes = checkAttributes(input.attributes);
  if (input.status !== undefined && input.status !== 'subscribed' && input.status !== 'unconfirmed') {
    throw invalid('status must be subscribed or unconfirmed', [{ field: 'status', message: 'invalid' }]);
  }
  return inTransaction(s, async (trx) => {
    const list = await requireList(trx, input.tenantId, input.listId);
    const now = Date.now();
    const { row } = await upsertSubscriber(trx, input.tenantId, email, name, attributes, now);
    const member = await trx.selectFrom('list_members').select(['status']).where('list_id', '=', list.id).where('subscriber_id', '=', row.id).executeTakeFirst();
    const wanted: MemberStatus = input.status ?? (list.double_opt_in ? 'unconfirmed' : 'subscribed');
    const status: MemberStatus = member?.status === 'subscribed' ? 'subscribed' : wanted;
    const source = input.source ?? 'api';
    if (!member) {
      await trx.insertInto('list_members').values({
        list_id: list.id, subscriber_id: row.id, tenant_id: input.tenantId, status, source, created_at: now, updated_at: now,
        confirmed_at: status === 'subscribed' ? now : null, unsubscribed_at: null,
      }).execute();
    } else if (member.status !== status) {
      await trx.updateTable('list_members').set({ status, source, updated_at: now, confirmed_at: status === 'subscribed' ? now : null, unsubscribed_at: null })
        .where('list_id', '=', list.id).where('subscriber_id', '=', row.id).execute();
    }
    await recordOperation(trx, actor, {
      operation: 'subscriber.subscribe', objectType: 'subscriber', objectId: String(row.id), tenantId: input.tenantId,
      description: `${email} ${status} on list ${list.name}`, details: { listId: list.id, email, status, previousStatus: member?.status ?? null, source },
    });
    if (status === 'subscribed' && member?.status !== 'subscribed') {
      await emitWebhookEvents(trx, [{ tenantId: input.tenantId, at: now, type: 'recipient.subscribed', data: { recipient: email, listId: list.id, listName: list.name, source } }]);
    }
    return { subscriber: view(row), status, added: !member, previousStatus: member?.status ?? null };
  });
}

/** Double opt-in: the click in the confirmation mail turns unconfirmed into subscribed. */
export async function confirmSubscription(s: StoreOrTx, actor: Actor, input: { tenantId: string; listId: string; subscriberId: number }): Promise<MemberStatus> {
  assertAccess(actor, input.tenantId, true);
  return inTransaction(s, async (trx) => {
    const m = await trx.selectFrom('list_members').select(['status']).where('list_id', '=', input.listId)
      .where('subscriber_id', '=', input.subscriberId).where('tenant_id', '=', input.tenantId).executeTakeFirst();
    if (!m) throw notFound('subscription');
    // Only a pending subscription confirms: an old link must not undo a later unsubscribe.
    if (m.status !== 'unconfirmed') return m.status;
    const now = Date.now();
    await trx.updateTable('list_members').set({ status: 'subscribed', confirmed_at: now, updated_at: now })
      .where('list_id', '=', input.listId).where('subscriber_id', '=', input.subscriberId).execute();
    await recordOperation(trx, actor, {
      operation: 'subscriber.confirm', objectType: 'subscriber', objectId: String(input.subscriberId), tenantId: input.tenantId,
      description: `subscription confirmed on list ${input.listId}`, details: { listId: input.listId },
    });
    const who = await trx.selectFrom('subscribers').select('email').where('id', '=', input.subscriberId).executeTakeFirst();
    await emitWebhookEvents(trx, [{ tenantId: input.tenantId, at: now, type: 'recipient.subscribed', data: { recipient: who?.email ?? null, listId: input.listId, source: 'double_opt_in' } }]);
    return 'subscribed';
  });
}

export interface UnsubscribeInput {
  tenantId: string;
  /** The address, or the subscriber id (from a signed token). */
  email?: string;
  subscriberId?: number;
  /** One list, or every list of the tenant when null or absent. */
  listId?: string | null;
  /** unsubscribed (the recipient or a business system), bounced, complained. */
  status?: 'unsubscribed' | 'bounced' | 'complained';
  /** one-click, link, mailto, api, console, bounce, complaint. */
  source?: string;
}

/**
 * Takes an address off one list or all of its tenant's lists. Effective for every later send
 * at once: campaigns read the membership status when they send, not only when they start.
 * Returns how many memberships changed; an unknown address changes nothing and is not an error
 * (a one-click POST must not reveal whether an address exists).
 */
export async function unsubscribe(s: StoreOrTx, actor: Actor, input: UnsubscribeInput): Promise<number> {
  assertAccess(actor, input.tenantId, true);
  const status = input.status ?? 'unsubscribed';
  if (!['unsubscribed', 'bounced', 'complained'].includes(status)) throw invalid('status must be unsubscribed, bounced or complained', [{ field: 'status', message: 'invalid' }]);
  if (input.subscriberId === undefined && input.email === undefined) throw invalid('give an email or a subscriber id', [{ field: 'email', message: 'required' }]);
  const email = input.email !== undefined ? requireEmail(input.email) : null;
  return inTransaction(s, async (trx) => {
    let q = trx.selectFrom('subscribers').select(['id', 'email']).where('tenant_id', '=', input.tenantId);
    q = email !== null ? q.where('email', '=', email) : q.where('id', '=', input.subscriberId!);
    const sub = await q.executeTakeFirst();
    if (!sub) return 0;
    if (input.listId) await requireList(trx, input.tenantId, input.listId);
    const now = Date.now();
    let u = trx.updateTable('list_members').set({ status, updated_at: now, unsubscribed_at: now })
      .where('subscriber_id', '=', sub.id).where('tenant_id', '=', input.tenantId).where('status', '!=', status);
    // A complaint outranks an unsubscribe: never turn "complained" back into "unsubscribed".
    if (status !== 'complained') u = u.where('status', '!=', 'complained');
    if (input.listId) u = u.where('list_id', '=', input.listId);
    const res = await u.executeTakeFirst();
    const changed = Number(res.numUpdatedRows);
    if (changed > 0) {
      await recordOperation(trx, actor, {
        operation: `subscriber.${status === 'unsubscribed' ? 'unsubscribe' : status}`, objectType: 'subscriber', objectId: String(sub.id), tenantId: input.tenantId,
        description: `${sub.email} ${status} on ${input.listId ? `list ${input.listId}` : 'every list'}`,
        details: { email: sub.email, listId: input.listId ?? null, status, source: input.source ?? 'api', memberships: changed },
      });
    }
    return changed;
  });
}

export async function updateSubscriber(s: StoreOrTx, actor: Actor, input: { tenantId: string; subscriberId: number; name?: string | null; attributes?: Attributes }): Promise<SubscriberView> {
  assertAccess(actor, input.tenantId, true);
  const name = checkSubscriberName(input.name);
  const attributes = checkAttributes(input.attributes);
  return inTransaction(s, async (trx) => {
    let q = trx.selectFrom('subscribers').selectAll().where('tenant_id', '=', input.tenantId).where('id', '=', input.subscriberId);
    if (isPostgres(trx)) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw notFound('subscriber');
    const next = { name: name === undefined ? row.name : name, attributes: mergeAttributes(row.attributes, attributes), updated_at: Date.now() };
    await trx.updateTable('subscribers').set(next).where('id', '=', row.id).execute();
    await recordOperation(trx, actor, {
      operation: 'subscriber.update', objectType: 'subscriber', objectId: String(row.id), tenantId: input.tenantId,
      description: `updated subscriber ${row.email}`, details: { changedAttributes: Object.keys(attributes), nameChanged: name !== undefined },
    });
    return view({ ...row, ...next } as SubscriberRow);
  });
}

export async function getSubscriber(s: StoreOrTx, actor: Actor, tenantId: string, ref: { email?: string; id?: number }): Promise<SubscriberView & { memberships: Membership[] }> {
  assertAccess(actor, tenantId, false);
  const db = executor(s);
  let q = db.selectFrom('subscribers').selectAll().where('tenant_id', '=', tenantId);
  q = ref.id !== undefined ? q.where('id', '=', ref.id) : q.where('email', '=', requireEmail(ref.email));
  const row = await q.executeTakeFirst();
  if (!row) throw notFound('subscriber');
  const ms = await db.selectFrom('list_members').selectAll().where('subscriber_id', '=', row.id).orderBy('list_id').execute();
  return {
    ...view(row as SubscriberRow),
    memberships: ms.map((m) => ({ listId: m.list_id, status: m.status, source: m.source, createdAt: m.created_at, updatedAt: m.updated_at, confirmedAt: m.confirmed_at, unsubscribedAt: m.unsubscribed_at })),
  };
}

/** One page of a list's members in subscriber id order; pass `nextAfter` back for the next page. */
export async function listMembers(s: StoreOrTx, actor: Actor, input: { tenantId: string; listId: string; status?: MemberStatus; after?: number; limit?: number }): Promise<{ items: MemberView[]; nextAfter: number | null }> {
  assertAccess(actor, input.tenantId, false);
  const db = executor(s);
  await requireList(db, input.tenantId, input.listId);
  const limit = Math.min(Math.max(input.limit ?? 100, 1), 1000);
  const rows = await memberPage(db, input.listId, input.status, input.after ?? 0, limit);
  return { items: rows, nextAfter: rows.length === limit ? rows[rows.length - 1]!.id : null };
}

/** Keyset page over one list (shared with export). */
export async function memberPage(db: Executor, listId: string, status: MemberStatus | undefined, after: number, limit: number): Promise<MemberView[]> {
  let q = db.selectFrom('list_members as m').innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
    .select(['s.id', 's.tenant_id', 's.email', 's.name', 's.attributes', 's.import_id', 'm.created_at', 'm.updated_at', 'm.status'])
    .where('m.list_id', '=', listId).where('m.subscriber_id', '>', after);
  if (status) q = q.where('m.status', '=', status);
  const rows = await q.orderBy('m.subscriber_id').limit(limit).execute();
  return rows.map((r) => ({ ...view(r as SubscriberRow), status: r.status }));
}

/** Whether an address may be mailed on a list right now (campaign senders check at send time). */
export async function isSubscribed(s: StoreOrTx, tenantId: string, listId: string, email: string): Promise<boolean> {
  const c = checkEmail(email);
  if (!c.ok) return false;
  const row = await executor(s).selectFrom('list_members as m').innerJoin('subscribers as s', 's.id', 'm.subscriber_id').select('m.status')
    .where('m.list_id', '=', listId).where('s.tenant_id', '=', tenantId).where('s.email', '=', c.email).executeTakeFirst();
  return row?.status === 'subscribed';
}
