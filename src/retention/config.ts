import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

const days = (d: number, description: string) => Type.Integer({ minimum: 0, default: d, description: `${description}; 0 keeps them forever` });

/**
 * Retention (`retention` in the config file): how long each kind of record is kept before the
 * background job prunes it. Statistics rollups are not raw events and are not pruned here.
 */
export const RetentionConfigSchema = Type.Object({
  enabled: Type.Boolean({ default: true }),
  /** How often the prune runs (once per cluster per period). */
  everyMinutes: Type.Number({ minimum: 0.001, default: 60 }),
  /** Rows per delete statement: small, so the sender's writes never wait long behind one. */
  batchSize: Type.Integer({ minimum: 1, maximum: 50_000, default: 1000 }),
  /** Pause between batches, leaving the store to delivery. */
  pauseMs: Type.Integer({ minimum: 0, default: 20 }),
  /** Longest one run works before it yields its lease to the next period. */
  maxRunSeconds: Type.Integer({ minimum: 1, default: 600 }),
  deliveryEventsDays: days(180, 'Delivery attempts and decisions (delivery_events), and the queue rows of finished messages'),
  bounceRawDays: days(90, 'Raw inbound bounce and complaint messages (inbound_messages)'),
  trackingEventsDays: days(180, 'Opens, clicks and unsubscribes (tracking_events)'),
  webhookHistoryDays: days(30, 'Webhook delivery history (when the webhook capability registers its table)'),
  operationLogDays: days(0, 'Operation-log entries (the hash chain is anchored at the first entry kept)'),
  /** Hours after a message's last recipient is final before its body and unreferenced shared parts go (the archive keeps its own copy). */
  deliveryBodiesHours: Type.Integer({ minimum: 0, default: 24, description: '0 keeps bodies forever' }),
}, { additionalProperties: false, default: {} });

export type RetentionConfig = Static<typeof RetentionConfigSchema>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    retention: RetentionConfig;
  }
}
