import type { Generated } from 'kysely';

export interface WebhookEndpointTable {
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  /** JSON array of event types. */
  events: string;
  /** `whsec_...`, sealed at rest. */
  secret: string;
  /** The secret before the last rotation, sealed; deliveries carry both signatures until it expires. */
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  /** enabled | disabled */
  status: string;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

/** The outbox: one row per event, written in the transaction of the change it reports. */
export interface WebhookEventTable {
  id: Generated<number>;
  /** `msg_...`: the webhook-id header, the same on every retry and replay. */
  webhook_id: string;
  tenant_id: string;
  type: string;
  /** The body as sent: {type, timestamp, data}. */
  payload: string;
  created_at: number;
}

export interface WebhookDeliveryTable {
  id: Generated<number>;
  event_id: number;
  endpoint_id: string;
  /** pending | delivered | failed */
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookAttemptTable {
  id: Generated<number>;
  delivery_id: number;
  endpoint_id: string;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface WebhookTables {
  webhook_endpoints: WebhookEndpointTable;
  webhook_events: WebhookEventTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends WebhookTables {}
}
