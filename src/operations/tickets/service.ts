import type { Actor } from '../../audit/index.ts';
import { recordOperation } from '../../audit/index.ts';
import { conflict, invalid, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Executor, Tx } from '../../store/store.ts';
import { getTenant } from '../../tenants/index.ts';
import { getUser } from '../../users/index.ts';
import type { OpsDeps } from '../context.ts';
import type { OpsTicketTable } from '../tables.ts';
import { appendTicketEvent } from './events.ts';
import type { TicketEventType } from './events.ts';
import { PRIORITIES, STATUSES, TRANSITIONS } from './sla.ts';
import type { Priority, TicketStatus } from './sla.ts';
import { statusChanges, ticketView, timelineOf } from './views.ts';
import type { TicketView } from './views.ts';

export interface CreateTicketInput {
  priority: unknown;
  title: unknown;
  description?: unknown;
  tenantId?: string | null;
  contactName?: string;
  contactEmail?: string;
  contactPhone?: string;
  place?: string;
  occurredAt?: number;
  source?: 'manual' | 'monitor' | 'survey';
  signalKey?: string | null;
  parentTicketId?: string | null;
}

function text(field: string, value: unknown, max: number, required = false): string {
  if (value === undefined || value === null) {
    if (required) throw invalid(`${field} is required`, [{ field: `/body/${field}`, message: 'is required' }]);
    return '';
  }
  if (typeof value !== 'string') throw invalid(`${field} must be a string`, [{ field: `/body/${field}`, message: 'must be a string' }]);
  const v = value.trim();
  if (required && !v) throw invalid(`${field} must not be empty`, [{ field: `/body/${field}`, message: 'must not be empty' }]);
  if (v.length > max) throw invalid(`${field} is longer than ${max} characters`, [{ field: `/body/${field}`, message: `at most ${max} characters` }]);
  return v;
}

export function requirePriority(value: unknown, field = '/body/priority'): Priority {
  if (typeof value !== 'string' || !(PRIORITIES as readonly string[]).includes(value)) throw invalid('priority must be one of P1, P2, P3, P4', [{ field, message: 'one of P1, P2, P3, P4' }]);
  return value as Priority;
}

/** Appends one timeline entry (and its event) in the caller's transaction. */
export async function appendTimeline(trx: Tx, row: Pick<OpsTicketTable, 'id' | 'tenant_id'>, entry: { at: number; type: string; actor: string; from?: string | null; to?: string | null; detail?: Record<string, unknown>; event?: TicketEventType }): Promise<void> {
  const detail = entry.detail ?? {};
  await trx.insertInto('ops_ticket_timeline').values({ ticket_id: row.id, at: entry.at, type: entry.type, actor: entry.actor, from_status: entry.from ?? null, to_status: entry.to ?? null, detail: JSON.stringify(detail) }).execute();
  if (entry.event) {
    await appendTicketEvent(trx, { at: entry.at, type: entry.event, ticketId: row.id, tenantId: row.tenant_id, data: { ...detail, ...(entry.from !== undefined ? { from: entry.from } : {}), ...(entry.to !== undefined ? { to: entry.to } : {}), actor: entry.actor } });
  }
}

export async function ticketRow(db: Executor, id: string, scope: string | null = null): Promise<OpsTicketTable> {
  const row = await db.selectFrom('ops_tickets').selectAll().where('id', '=', id).executeTakeFirst();
  // Another tenant's ticket answers exactly like a missing one.
  if (!row || (scope !== null && row.tenant_id !== scope)) throw notFound('ticket');
  return row;
}

async function lockTicket(trx: Tx, id: string, scope: string | null): Promise<OpsTicketTable> {
  // Serialises writers of one ticket on PostgreSQL; SQLite serialises every write anyway.
  await trx.updateTable('ops_tickets').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', id).execute();
  return ticketRow(trx, id, scope);
}

export async function viewTicket(deps: OpsDeps, id: string, scope: string | null = null, withTimeline = true): Promise<TicketView> {
  const row = await ticketRow(deps.store.db, id, scope);
  const changes = (await statusChanges(deps.store.db, [id])).get(id) ?? [];
  const view = ticketView(deps.config, row, changes, deps.now());
  if (withTimeline) view.timeline = await timelineOf(deps.store.db, id);
  return view;
}

async function createInTx(trx: Tx, deps: OpsDeps, actor: Actor, input: CreateTicketInput, now: number): Promise<OpsTicketTable> {
  const priority = requirePriority(input.priority);
  const title = text('title', input.title, 300, true);
  const description = text('description', input.description, 20_000);
  if (input.tenantId) {
    const t = await getTenant(trx, input.tenantId).catch(() => null);
    if (!t) throw invalid(`tenant ${input.tenantId} does not exist`, [{ field: '/body/tenantId', message: 'unknown tenant' }]);
  }
  const customer = deps.config.operations.customer;
  const row: OpsTicketTable = {
    id: newId('tk', now), tenant_id: input.tenantId ?? null, priority, status: 'open', title, description, assignee_id: null,
    contact_name: text('contactName', input.contactName, 200) || customer.contact, contact_email: text('contactEmail', input.contactEmail, 320) || customer.email,
    contact_phone: text('contactPhone', input.contactPhone, 64) || customer.phone, place: text('place', input.place, 300) || customer.place,
    occurred_at: input.occurredAt ?? now, source: input.source ?? 'manual', signal_key: input.signalKey ?? null, open_signal_key: input.signalKey ?? null,
    signal_recovered_at: null, parent_ticket_id: input.parentTicketId ?? null, created_by: actor.operator, created_at: now, updated_at: now,
    acknowledged_at: null, resolved_at: null, closed_at: null, response_breached_at: null, resolution_breached_at: null,
    handling: '', degree: '', lessons: '', customer_opinion: '', report_submitted_at: null,
  };
  await trx.insertInto('ops_tickets').values(row).execute();
  await appendTimeline(trx, row, { at: now, type: 'created', actor: actor.operator, to: 'open', detail: { priority, title, source: row.source, ...(row.signal_key ? { signalKey: row.signal_key } : {}) }, event: 'ticket.created' });
  await recordOperation(trx, actor, { operation: 'ticket.create', objectType: 'ticket', objectId: row.id, description: `${priority} ticket opened: ${title}`, tenantId: row.tenant_id, details: { priority, source: row.source, signalKey: row.signal_key } }, now);
  return row;
}

export async function createTicket(deps: OpsDeps, actor: Actor, input: CreateTicketInput): Promise<TicketView> {
  const now = deps.now();
  const row = await deps.store.transaction((trx) => createInTx(trx, deps, actor, input, now));
  return viewTicket(deps, row.id);
}

/** For monitors: opens a ticket unless one is open for the signal already; null when deduplicated. */
export async function openSignalTicket(deps: OpsDeps, actor: Actor, input: CreateTicketInput & { signalKey: string }): Promise<OpsTicketTable | null> {
  const now = deps.now();
  try {
    return await deps.store.transaction(async (trx) => {
      const open = await trx.selectFrom('ops_tickets').select('id').where('open_signal_key', '=', input.signalKey).executeTakeFirst();
      if (open) return null;
      return createInTx(trx, deps, actor, { ...input, source: 'monitor' }, now);
    });
  } catch (err) {
    // Two nodes racing for one signal: the unique open_signal_key lets one through.
    const open = await deps.store.db.selectFrom('ops_tickets').select('id').where('open_signal_key', '=', input.signalKey).executeTakeFirst();
    if (open) return null;
    throw err;
  }
}

export interface TicketFilter {
  status?: string;
  priority?: string;
  open?: boolean;
  tenantId?: string | null;
  assigneeId?: string;
  before?: string;
  limit?: number;
}

/** Newest first; `nextBefore` pages on. */
export async function listTickets(deps: OpsDeps, f: TicketFilter): Promise<{ items: TicketView[]; nextBefore: string | null }> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 200);
  let q = deps.store.db.selectFrom('ops_tickets').selectAll();
  if (f.status) q = q.where('status', '=', f.status);
  if (f.priority) q = q.where('priority', '=', f.priority);
  if (f.open) q = q.where('status', 'not in', ['resolved', 'closed']);
  if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
  if (f.assigneeId) q = q.where('assignee_id', '=', f.assigneeId);
  if (f.before) q = q.where('id', '<', f.before);
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const changes = await statusChanges(deps.store.db, page.map((r) => r.id));
  const now = deps.now();
  return { items: page.map((r) => ticketView(deps.config, r, changes.get(r.id) ?? [], now)), nextBefore: rows.length > limit ? page[page.length - 1]!.id : null };
}

const STATUS_EVENT: Partial<Record<TicketStatus, TicketEventType>> = { acknowledged: 'ticket.acknowledged', resolved: 'ticket.resolved', closed: 'ticket.closed' };

/** Moves a ticket along its states; returns the row as it is after the change. */
export async function changeStatus(deps: OpsDeps, actor: Actor, id: string, to: unknown, note?: unknown, scope: string | null = null): Promise<{ before: OpsTicketTable; after: OpsTicketTable }> {
  if (typeof to !== 'string' || !(STATUSES as readonly string[]).includes(to)) throw invalid(`status must be one of ${STATUSES.join(', ')}`, [{ field: '/body/status', message: `one of ${STATUSES.join(', ')}` }]);
  const target = to as TicketStatus;
  const comment = text('note', note, 20_000);
  const now = deps.now();
  return deps.store.transaction(async (trx) => {
    const before = await lockTicket(trx, id, scope);
    const from = before.status as TicketStatus;
    if (!TRANSITIONS[from].includes(target)) throw conflict(`a ${from} ticket cannot become ${target} (allowed: ${TRANSITIONS[from].join(', ') || 'none'})`);
    const reopen = target === 'open';
    const patch: Partial<OpsTicketTable> = { status: target, updated_at: now };
    if (target !== 'open' && before.acknowledged_at === null) patch.acknowledged_at = now;
    if (target === 'resolved') {
      patch.resolved_at = now;
      patch.open_signal_key = null;
      patch.report_submitted_at = null;
    }
    if (target === 'closed') {
      patch.closed_at = now;
      patch.open_signal_key = null;
    }
    if (reopen) patch.closed_at = null;
    await trx.updateTable('ops_tickets').set(patch).where('id', '=', id).execute();
    const event = reopen ? 'ticket.reopened' : STATUS_EVENT[target] ?? 'ticket.status_changed';
    await appendTimeline(trx, before, { at: now, type: reopen ? 'reopened' : 'status', actor: actor.operator, from, to: target, detail: comment ? { note: comment } : {}, event });
    await recordOperation(trx, actor, { operation: reopen ? 'ticket.reopen' : 'ticket.status', objectType: 'ticket', objectId: id, description: `ticket ${id}: ${from} → ${target}`, tenantId: before.tenant_id, details: { from, to: target } }, now);
    return { before, after: { ...before, ...patch } };
  });
}

/** Assigns the ticket to a support engineer or administrator (null unassigns). */
export async function assignTicket(deps: OpsDeps, actor: Actor, id: string, assigneeId: string | null, scope: string | null = null): Promise<void> {
  const now = deps.now();
  await deps.store.transaction(async (trx) => {
    const before = await lockTicket(trx, id, scope);
    let name: string | null = null;
    if (assigneeId !== null) {
      const user = await getUser(trx, assigneeId).catch(() => null);
      if (!user || user.disabled || !['support', 'administrator'].includes(user.role)) {
        throw invalid('the assignee must be an enabled support engineer or administrator', [{ field: '/body/assigneeId', message: 'not a support engineer or administrator' }]);
      }
      assigneeId = user.id;
      name = user.username;
    }
    await trx.updateTable('ops_tickets').set({ assignee_id: assigneeId, updated_at: now }).where('id', '=', id).execute();
    await appendTimeline(trx, before, { at: now, type: 'assigned', actor: actor.operator, detail: { assigneeId, assignee: name, previous: before.assignee_id }, event: 'ticket.assigned' });
    await recordOperation(trx, actor, { operation: 'ticket.assign', objectType: 'ticket', objectId: id, description: `ticket ${id} assigned to ${name ?? 'nobody'}`, tenantId: before.tenant_id, details: { assigneeId } }, now);
  });
}

export async function commentTicket(deps: OpsDeps, actor: Actor, id: string, body: unknown, scope: string | null = null): Promise<void> {
  const note = text('text', body, 20_000, true);
  const now = deps.now();
  await deps.store.transaction(async (trx) => {
    const before = await lockTicket(trx, id, scope);
    await appendTimeline(trx, before, { at: now, type: 'comment', actor: actor.operator, detail: { text: note }, event: 'ticket.commented' });
    await recordOperation(trx, actor, { operation: 'ticket.comment', objectType: 'ticket', objectId: id, description: `comment on ticket ${id}`, tenantId: before.tenant_id }, now);
  });
}

export interface FaultReportFields {
  handling?: unknown;
  degree?: unknown;
  lessons?: unknown;
  customerOpinion?: unknown;
  place?: unknown;
  occurredAt?: string;
}

/** Fills in the 故障处理报告; `submit` hands it over (stops its clock). */
export async function updateFaultReport(deps: OpsDeps, actor: Actor, id: string, fields: FaultReportFields, submit: boolean, scope: string | null = null): Promise<void> {
  const now = deps.now();
  const patch: Partial<OpsTicketTable> = { updated_at: now };
  if (fields.handling !== undefined) patch.handling = text('handling', fields.handling, 20_000);
  if (fields.degree !== undefined) patch.degree = text('degree', fields.degree, 2000);
  if (fields.lessons !== undefined) patch.lessons = text('lessons', fields.lessons, 20_000);
  if (fields.customerOpinion !== undefined) patch.customer_opinion = text('customerOpinion', fields.customerOpinion, 20_000);
  if (fields.place !== undefined) patch.place = text('place', fields.place, 300);
  if (fields.occurredAt !== undefined) {
    const t = Date.parse(fields.occurredAt);
    if (Number.isNaN(t)) throw invalid('occurredAt is not a date-time', [{ field: '/body/occurredAt', message: 'ISO 8601 date-time' }]);
    patch.occurred_at = t;
  }
  await deps.store.transaction(async (trx) => {
    const before = await lockTicket(trx, id, scope);
    if (submit) {
      if (before.resolved_at === null || !['resolved', 'closed'].includes(before.status)) throw conflict('the fault report is submitted after the ticket is resolved');
      if (!(patch.handling ?? before.handling)) throw invalid('the fault report needs the handling (处理方法) before it is submitted', [{ field: '/body/handling', message: 'is required to submit' }]);
      patch.report_submitted_at = now;
    }
    await trx.updateTable('ops_tickets').set(patch).where('id', '=', id).execute();
    const changed = Object.keys(patch).filter((k) => k !== 'updated_at');
    await appendTimeline(trx, before, { at: now, type: submit ? 'report_submitted' : 'report_updated', actor: actor.operator, detail: { fields: changed }, ...(submit ? { event: 'ticket.report_submitted' as const } : {}) });
    await recordOperation(trx, actor, { operation: submit ? 'ticket.report_submit' : 'ticket.report_update', objectType: 'ticket', objectId: id, description: `fault report of ticket ${id} ${submit ? 'submitted' : 'updated'}`, tenantId: before.tenant_id, details: { fields: changed } }, now);
  });
}
