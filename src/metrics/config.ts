import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

/** The metrics section of the configuration (`metrics` in the config file). */
export const MetricsConfigSchema = Type.Object({
  /** Networks (CIDR) besides loopback that may read GET /metrics without a token. */
  allowedNetworks: Type.Array(Type.String(), { default: [] }),
  /** A bearer token that lets any address read GET /metrics (env FANOUT_METRICS_TOKEN); null: none. */
  token: Type.Union([Type.String({ minLength: 16 }), Type.Null()], { default: null }),
}, { additionalProperties: false, default: {} });

export type MetricsConfig = Static<typeof MetricsConfigSchema>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    metrics: MetricsConfig;
  }
}
