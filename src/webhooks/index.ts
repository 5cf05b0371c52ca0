/**
 * Webhooks (Standard Webhooks) to business systems: endpoints, a durable outbox, signed
 * deliveries with retries, history, replay and secret rotation.
 *
 * Emitting events from another capability: call `emitWebhookEvents(trx, [{ tenantId, type,
 * data }])` inside the transaction that makes the change (the delivery result writer, the bounce
 * listener, tracking, tickets, the archive's notifications). The event is stored, with one
 * delivery per subscribed endpoint, only if that transaction commits; the dispatcher sends it
 * afterwards, at least once, with the same `webhook-id` on every retry. Pass a batch in one
 * call: it looks endpoints up once. New event types are added to WEBHOOK_EVENT_TYPES.
 *
 * Migrations 0700-0799 belong to this capability.
 */
export { emitWebhookEvents, WEBHOOK_EVENT_TYPES } from './events.ts';
export type { WebhookEventInput, WebhookEventType } from './events.ts';
export { webhookRoutes } from './routes.ts';
export { startWebhooks } from './component.ts';
export { NetworkPolicy } from './network.ts';
export { signatureHeader } from './signing.ts';
