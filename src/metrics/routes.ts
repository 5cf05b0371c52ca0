import { timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import client from 'prom-client';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { RouteModule } from '../http/app.ts';
import { storeRegistry } from './collectors.ts';
import { registry } from './registry.ts';

function allowed(req: FastifyRequest, networks: [ipaddr.IPv4 | ipaddr.IPv6, number][], token: string | null): boolean {
  const header = req.headers.authorization;
  if (token && header) {
    const presented = Buffer.from(header.replace(/^Bearer\s+/i, ''));
    const expected = Buffer.from(token);
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  }
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(req.ip);
  } catch {
    return false;
  }
  if (ip.range() === 'loopback') return true;
  return networks.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
}

/**
 * GET /metrics in the Prometheus text format: from loopback, from the configured networks, or
 * with the configured bearer token. Figures kept in the store (messages, deliveries, bounces,
 * queue) are the cluster's; the rest (latency, webhooks, SMTP sessions) are this process's.
 */
export const metricsRoutes: RouteModule = (app, { store, config }) => {
  const networks = config.metrics.allowedNetworks.map((c) => ipaddr.parseCIDR(c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`));
  const fromStore = storeRegistry(store, config.timezone);
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!allowed(req, networks, config.metrics.token)) throw new AppError('forbidden', 'metrics are served to loopback, the configured networks, or with the metrics token');
    const merged = client.Registry.merge([registry, fromStore]);
    return reply.type(merged.contentType).send(await merged.metrics());
  });
};
