/**
 * Prometheus metrics (`GET /metrics`). Other capabilities move the counters through this file
 * only: `webhookDeliveries`, `smtpSessions`, `smtpRejects`, `deliveryLatency`.
 */
export { registry, webhookDeliveries, smtpSessions, smtpRejects, deliveryLatency } from './registry.ts';
export { metricsRoutes } from './routes.ts';
export { providerOf, PROVIDER_NAMES } from './providers.ts';
