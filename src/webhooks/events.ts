import { newId } from '../core/ids.ts';
import type { Executor } from '../store/store.ts';

/** Every event type an endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  'message.delivered', 'message.deferred', 'message.failed', 'message.bounced', 'message.complained', 'message.opened', 'message.clicked',
  'recipient.unsubscribed', 'recipient.subscribed', 'account.quota_warning', 'account.quota_exhausted',
  // A tenant's fault tickets, as the operations capability names their events.
  'ticket.created', 'ticket.acknowledged', 'ticket.status_changed', 'ticket.assigned', 'ticket.commented', 'ticket.escalated',
  'ticket.breached', 'ticket.resolved', 'ticket.closed', 'ticket.reopened', 'ticket.signal_recovered', 'ticket.signal_failing',
  'ticket.survey_received', 'ticket.report_submitted',
  'archive.notification',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEventInput {
  tenantId: string;
  type: WebhookEventType;
  /** What happened; the body's `data`. Never a secret. */
  data: Record<string, unknown>;
  at?: number;
}

/**
 * Puts events into the webhook outbox inside the caller's transaction, with one delivery per
 * enabled endpoint of the tenant that subscribed to the type: the event is published if and
 * only if the change that caused it commits. Events nobody subscribed to are not stored. One
 * look-up of endpoints per call, so callers pass a whole batch at once.
 */
export async function emitWebhookEvents(trx: Executor, events: WebhookEventInput[]): Promise<number> {
  if (!events.length) return 0;
  const tenants = [...new Set(events.map((e) => e.tenantId))];
  const endpoints = await trx.selectFrom('webhook_endpoints').select(['id', 'tenant_id', 'events']).where('status', '=', 'enabled').where('tenant_id', 'in', tenants).execute();
  if (!endpoints.length) return 0;
  const subscribed = endpoints.map((e) => ({ id: e.id, tenantId: e.tenant_id, types: new Set(JSON.parse(e.events) as string[]) }));
  let written = 0;
  for (const e of events) {
    const targets = subscribed.filter((s) => s.tenantId === e.tenantId && s.types.has(e.type));
    if (!targets.length) continue;
    const at = e.at ?? Date.now();
    const webhookId = newId('msg', at);
    const payload = JSON.stringify({ type: e.type, timestamp: new Date(at).toISOString(), data: e.data });
    const row = await trx.insertInto('webhook_events').values({ webhook_id: webhookId, tenant_id: e.tenantId, type: e.type, payload, created_at: at }).returning('id').executeTakeFirstOrThrow();
    await trx.insertInto('webhook_deliveries').values(targets.map((t) => ({
      event_id: Number(row.id), endpoint_id: t.id, status: 'pending', attempts: 0, next_attempt_at: at, last_status_code: null, last_error: null, created_at: at, updated_at: at,
    }))).execute();
    written++;
  }
  return written;
}
