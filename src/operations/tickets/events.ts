import type { Executor, Tx } from '../../store/store.ts';
import { emitWebhookEvents } from '../../webhooks/index.ts';

/** Every event a ticket emits; `ticket.*` as the webhook event names. */
export const TICKET_EVENTS = [
  'ticket.created', 'ticket.acknowledged', 'ticket.status_changed', 'ticket.assigned', 'ticket.commented', 'ticket.escalated',
  'ticket.breached', 'ticket.resolved', 'ticket.closed', 'ticket.reopened', 'ticket.signal_recovered', 'ticket.signal_failing',
  'ticket.survey_received', 'ticket.report_submitted',
] as const;
export type TicketEventType = (typeof TICKET_EVENTS)[number];

export interface TicketEvent {
  id: number;
  at: string;
  type: TicketEventType;
  ticketId: string;
  tenantId: string | null;
  data: Record<string, unknown>;
}

/**
 * Writes one event in the caller's transaction, so an event exists exactly when the change it
 * describes committed; nothing here is updated or deleted. A tenant's ticket events also go to
 * that tenant's webhook outbox in the same transaction (`ticket.*`); the platform's own tickets
 * (no tenant) have no tenant endpoint to go to and stay in this timeline.
 */
export async function appendTicketEvent(trx: Tx, event: { at: number; type: TicketEventType; ticketId: string; tenantId: string | null; data: Record<string, unknown> }): Promise<void> {
  await trx.insertInto('ops_ticket_events').values({ at: event.at, ticket_id: event.ticketId, tenant_id: event.tenantId, type: event.type, payload: JSON.stringify(event.data) }).execute();
  if (event.tenantId) {
    await emitWebhookEvents(trx, [{ tenantId: event.tenantId, type: event.type, at: event.at, data: { ticketId: event.ticketId, ...event.data } }]);
  }
}

/** Events after `cursor` (an event id; 0 for the first), oldest first. */
export async function ticketEventsAfter(db: Executor, cursor: number, limit = 100, filter: { ticketId?: string; tenantId?: string | null } = {}): Promise<TicketEvent[]> {
  let q = db.selectFrom('ops_ticket_events').selectAll().where('id', '>', cursor);
  if (filter.ticketId) q = q.where('ticket_id', '=', filter.ticketId);
  if (filter.tenantId) q = q.where('tenant_id', '=', filter.tenantId);
  const rows = await q.orderBy('id').limit(Math.min(Math.max(limit, 1), 1000)).execute();
  return rows.map((r) => ({ id: r.id, at: new Date(r.at).toISOString(), type: r.type as TicketEventType, ticketId: r.ticket_id, tenantId: r.tenant_id, data: JSON.parse(r.payload) as Record<string, unknown> }));
}
