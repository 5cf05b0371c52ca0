import type { DeliveryConfig } from '../config.ts';
import { Egress } from './egress.ts';
import { RouteResolver } from './routing.ts';
import { ShapingTable } from './shaping.ts';

/** Builds the routing table, shaping table and egress of a node from `delivery` config. */
export function outboundFromConfig(config: DeliveryConfig, opts: { now?: () => number } = {}): { routes: RouteResolver; shaping: ShapingTable; egress: Egress } {
  const shaping = new ShapingTable({ defaults: config.shaping.defaults, presets: config.shaping.presets, custom: config.shaping.custom });
  const routes = new RouteResolver({
    staticRoutes: config.routes,
    now: opts.now,
    mxCacheSeconds: config.dns.mxCacheSeconds,
    maxCacheSeconds: config.dns.maxCacheSeconds,
    negativeCacheSeconds: config.dns.negativeCacheSeconds,
    temporaryFailureCacheSeconds: config.dns.temporaryFailureCacheSeconds,
    timeoutMs: config.dns.timeoutMs,
  });
  const egress = new Egress({
    heloName: config.heloName,
    limitsFor: (_site, hosts) => shaping.shapeFor(hosts.map((h) => h.host)).limits,
    connectTimeoutMs: config.egress.connectTimeoutMs,
    greetingTimeoutMs: config.egress.greetingTimeoutMs,
    socketTimeoutMs: config.egress.socketTimeoutMs,
    idleMs: config.egress.idleMs,
    throttle: { suspendMs: config.shaping.suspendMinutes * 60_000, maxSuspendMs: config.shaping.maxSuspendMinutes * 60_000 },
    now: opts.now,
  });
  return { routes, shaping, egress };
}
