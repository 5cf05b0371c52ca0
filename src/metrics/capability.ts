import { defineCapability } from '../platform/capability.ts';
import { MetricsConfigSchema } from './config.ts';
import { metricsRoutes } from './routes.ts';

/** Prometheus metrics at GET /metrics. */
export const metrics = defineCapability({
  name: 'metrics',
  publicRoutes: [metricsRoutes],
  config: { metrics: MetricsConfigSchema },
});
