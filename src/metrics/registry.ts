import client from 'prom-client';

/**
 * The process's Prometheus registry and the counters capabilities move as things happen.
 * Figures that the store already holds (messages by outcome, queue depth) are read from it at
 * scrape time instead (see collectors.ts), so they agree with the statistics and across nodes.
 */
export const registry = new client.Registry();

export const webhookDeliveries = new client.Counter({
  name: 'fanout_webhook_deliveries_total', help: 'Webhook delivery attempts by result (delivered, retry, failed, refused).', labelNames: ['result'] as const, registers: [registry],
});

export const smtpSessions = new client.Counter({
  name: 'fanout_smtp_sessions_total', help: 'SMTP sessions accepted, by listener (submission, bounce).', labelNames: ['listener'] as const, registers: [registry],
});

export const smtpRejects = new client.Counter({
  name: 'fanout_smtp_rejects_total', help: 'SMTP commands answered with a refusal (4xx or 5xx), by listener and reply class.', labelNames: ['listener', 'class'] as const, registers: [registry],
});

export const deliveryLatency = new client.Histogram({
  name: 'fanout_delivery_latency_seconds', help: 'Time from acceptance to the delivering attempt, seconds.', labelNames: ['lane'] as const,
  buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400], registers: [registry],
});

const version = (process.env.npm_package_version ?? '0.1.0');
new client.Gauge({ name: 'fanout_build_info', help: 'Always 1; the labels say which build runs.', labelNames: ['version', 'node'] as const, registers: [registry] }).set({ version, node: process.version }, 1);
client.collectDefaultMetrics({ register: registry, prefix: 'fanout_' });
