import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { AppError, conflict, invalid, notFound } from '../core/errors.ts';
import { findSendingDomain } from '../domains/index.ts';
import { parseFrom } from '../messages/index.ts';
import { newId } from '../core/ids.ts';
import type { Executor } from '../store/store.ts';
import { assertAccess, executor, inTransaction } from './db.ts';
import type { StoreOrTx } from './db.ts';
import { MEMBER_STATUSES } from './tables.ts';
import type { MemberStatus, SubscriberListTable } from './tables.ts';

export interface ListView {
  id: string;
  tenantId: string;
  name: string;
  description: string | null;
  doubleOptIn: boolean;
  /** The hosted subscribe form and the sender of its confirmation mail. */
  form: FormSettings;
  createdAt: number;
  updatedAt: number;
  counts: Record<MemberStatus, number>;
}

export interface FormSettings {
  enabled: boolean;
  /** Sending account of the double opt-in confirmation mail. */
  accountId: string | null;
  /** Its From, e.g. "信用卡中心 <news@cards.bank.example>" (a sending domain of the tenant). */
  from: string | null;
}

export interface ListInput {
  name?: string;
  description?: string | null;
  doubleOptIn?: boolean;
  form?: Partial<FormSettings>;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !name.trim()) throw invalid('a list needs a name', [{ field: 'name', message: 'required' }]);
  if (name.trim().length > 200) throw invalid('a list name has at most 200 characters', [{ field: 'name', message: 'too long' }]);
  return name.trim();
}

const emptyCounts = () => Object.fromEntries(MEMBER_STATUSES.map((s) => [s, 0])) as Record<MemberStatus, number>;

async function countsOf(db: Executor, listIds: string[]): Promise<Map<string, Record<MemberStatus, number>>> {
  const out = new Map<string, Record<MemberStatus, number>>();
  for (const id of listIds) out.set(id, emptyCounts());
  if (!listIds.length) return out;
  const rows = await db.selectFrom('list_members').select(['list_id', 'status']).select((eb) => eb.fn.countAll<number>().as('n'))
    .where('list_id', 'in', listIds).groupBy(['list_id', 'status']).execute();
  for (const r of rows) {
    const c = out.get(r.list_id);
    if (c && r.status in c) c[r.status] = Number(r.n);
  }
  return out;
}

function view(row: SubscriberListTable, counts: Record<MemberStatus, number>): ListView {
  return {
    id: row.id, tenantId: row.tenant_id, name: row.name, description: row.description, doubleOptIn: row.double_opt_in === 1,
    form: { enabled: row.form_enabled === 1, accountId: row.sender_account_id, from: row.sender_from },
    createdAt: row.created_at, updatedAt: row.updated_at, counts,
  };
}

/** The list row, or not_found when it does not exist in this tenant. */
export async function requireList(db: Executor, tenantId: string, listId: string): Promise<SubscriberListTable> {
  const row = await db.selectFrom('subscriber_lists').selectAll().where('id', '=', listId).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!row) throw notFound('list');
  return row;
}

/**
 * Applies form settings to a row. A double opt-in list's form mails a confirmation, so it
 * needs a sending account of the tenant and a From address before it can be switched on.
 */
async function applyForm(db: Executor, row: SubscriberListTable, form: Partial<FormSettings> | undefined): Promise<void> {
  if (form) {
    if (form.enabled !== undefined) row.form_enabled = form.enabled ? 1 : 0;
    if (form.accountId !== undefined) row.sender_account_id = form.accountId?.trim() || null;
    if (form.from !== undefined) row.sender_from = form.from?.trim() || null;
  }
  if (row.sender_account_id) {
    const acc = await db.selectFrom('sending_accounts').select('id').where('id', '=', row.sender_account_id).where('tenant_id', '=', row.tenant_id).executeTakeFirst();
    if (!acc) throw invalid('form.accountId is not a sending account of this tenant', [{ field: 'form.accountId', message: 'unknown account' }]);
  }
  if (row.sender_from) await checkFormSender(db, row.tenant_id, row.sender_from);
  if (row.form_enabled && row.double_opt_in && (!row.sender_account_id || !row.sender_from)) {
    throw invalid('a double opt-in form mails a confirmation: set form.accountId and form.from first', [{ field: 'form', message: 'sender missing' }]);
  }
}

/**
 * The confirmation mail's From: one real address (with an optional display name) on a sending
 * domain of the list's tenant, checked as the send API checks a From. "@x.y" has no local
 * part and is refused here, when the form is set up, not later at every sign-up.
 */
async function checkFormSender(db: Executor, tenantId: string, from: string): Promise<void> {
  const example = 'form.from must be one address such as "Name <news@bank.example>"';
  // eslint-disable-next-line no-control-regex
  if (from.length > 320 || /[\r\n\u0000]/.test(from)) throw invalid(`${example}, on one line`, [{ field: 'form.from', message: 'one line, at most 320 characters' }]);
  let parsed;
  try {
    parsed = parseFrom(from, 'form.from');
  } catch (err) {
    const reason = err instanceof AppError ? err.problems[0]?.message ?? err.message : String(err);
    throw invalid(`${example}: ${reason}`, [{ field: 'form.from', message: reason }]);
  }
  const domain = await findSendingDomain(db, parsed.domain);
  if (!domain || domain.tenantId !== tenantId) throw invalid(`form.from: ${parsed.domain} is not a sending domain of this tenant`, [{ field: 'form.from', message: 'domain not registered for this tenant' }]);
}

async function assertNameFree(db: Executor, tenantId: string, name: string, exceptId?: string): Promise<void> {
  let q = db.selectFrom('subscriber_lists').select('id').where('tenant_id', '=', tenantId).where('name', '=', name);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) throw conflict(`a list named "${name}" already exists`);
}

export async function createList(s: StoreOrTx, actor: Actor, input: ListInput & { tenantId: string }): Promise<ListView> {
  assertAccess(actor, input.tenantId, true);
  const name = checkName(input.name);
  return inTransaction(s, async (trx) => {
    const tenant = await trx.selectFrom('tenants').select('id').where('id', '=', input.tenantId).executeTakeFirst();
    if (!tenant) throw notFound('tenant');
    await assertNameFree(trx, input.tenantId, name);
    const now = Date.now();
    const row: SubscriberListTable = {
      id: newId('ls', now), tenant_id: input.tenantId, name, description: input.description?.trim() || null,
      double_opt_in: input.doubleOptIn ? 1 : 0, form_enabled: 0, sender_account_id: null, sender_from: null, created_at: now, updated_at: now,
    };
    await applyForm(trx, row, input.form);
    await trx.insertInto('subscriber_lists').values(row).execute();
    await recordOperation(trx, actor, {
      operation: 'list.create', objectType: 'list', objectId: row.id, tenantId: row.tenant_id,
      description: `created list ${name}`, details: { name, doubleOptIn: input.doubleOptIn === true, form: view(row, emptyCounts()).form },
    });
    return view(row, (await countsOf(trx, [row.id])).get(row.id)!);
  });
}

export async function updateList(s: StoreOrTx, actor: Actor, input: ListInput & { tenantId: string; listId: string }): Promise<ListView> {
  assertAccess(actor, input.tenantId, true);
  return inTransaction(s, async (trx) => {
    const row = await requireList(trx, input.tenantId, input.listId);
    const next = { ...row, updated_at: Date.now() };
    if (input.name !== undefined) {
      next.name = checkName(input.name);
      await assertNameFree(trx, input.tenantId, next.name, row.id);
    }
    if (input.description !== undefined) next.description = input.description?.trim() || null;
    if (input.doubleOptIn !== undefined) next.double_opt_in = input.doubleOptIn ? 1 : 0;
    await applyForm(trx, next, input.form);
    await trx.updateTable('subscriber_lists').set({
      name: next.name, description: next.description, double_opt_in: next.double_opt_in, form_enabled: next.form_enabled,
      sender_account_id: next.sender_account_id, sender_from: next.sender_from, updated_at: next.updated_at,
    }).where('id', '=', row.id).execute();
    await recordOperation(trx, actor, {
      operation: 'list.update', objectType: 'list', objectId: row.id, tenantId: row.tenant_id, description: `updated list ${next.name}`,
      details: {
        before: { name: row.name, description: row.description, doubleOptIn: row.double_opt_in === 1, form: view(row, emptyCounts()).form },
        after: { name: next.name, description: next.description, doubleOptIn: next.double_opt_in === 1, form: view(next, emptyCounts()).form },
      },
    });
    return view(next, (await countsOf(trx, [row.id])).get(row.id)!);
  });
}

/** Removes the list and its memberships; the subscribers stay (they may be on other lists). */
export async function deleteList(s: StoreOrTx, actor: Actor, input: { tenantId: string; listId: string }): Promise<void> {
  assertAccess(actor, input.tenantId, true);
  await inTransaction(s, async (trx) => {
    const row = await requireList(trx, input.tenantId, input.listId);
    const counts = (await countsOf(trx, [row.id])).get(row.id)!;
    await trx.deleteFrom('list_members').where('list_id', '=', row.id).execute();
    await trx.deleteFrom('subscriber_lists').where('id', '=', row.id).execute();
    await recordOperation(trx, actor, {
      operation: 'list.delete', objectType: 'list', objectId: row.id, tenantId: row.tenant_id,
      description: `deleted list ${row.name}`, details: { name: row.name, members: counts },
    });
  });
}

export async function getList(s: StoreOrTx, actor: Actor, tenantId: string, listId: string): Promise<ListView> {
  assertAccess(actor, tenantId, false);
  const db = executor(s);
  const row = await requireList(db, tenantId, listId);
  return view(row, (await countsOf(db, [row.id])).get(row.id)!);
}

export async function listLists(s: StoreOrTx, actor: Actor, tenantId: string): Promise<ListView[]> {
  assertAccess(actor, tenantId, false);
  const db = executor(s);
  const rows = await db.selectFrom('subscriber_lists').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
  const counts = await countsOf(db, rows.map((r) => r.id));
  return rows.map((r) => view(r, counts.get(r.id)!));
}
