import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

/** The webhooks section of the configuration (`webhooks` in the config file). */
export const WebhooksConfigSchema = Type.Object({
  /**
   * Networks (CIDR) that webhook endpoints may resolve to although they are loopback, private,
   * link-local or otherwise internal: banks' business systems usually are. Env:
   * FANOUT_WEBHOOK_ALLOWED_NETWORKS="10.0.0.0/8,127.0.0.1/32".
   */
  allowedNetworks: Type.Array(Type.String(), { default: [] }),
  /** How long one delivery attempt may take, connection to response. */
  timeoutMs: Type.Integer({ minimum: 100, default: 15_000 }),
  /** Deliveries in flight at once, over all endpoints. */
  concurrency: Type.Integer({ minimum: 1, default: 32 }),
  /** Dispatch on this node (one node of the cluster dispatches at a time, under a lease). */
  dispatch: Type.Boolean({ default: true }),
}, { additionalProperties: false, default: {} });

export type WebhooksConfig = Static<typeof WebhooksConfigSchema>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    webhooks: WebhooksConfig;
  }
}
