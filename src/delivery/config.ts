import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;

/** Limits for one MX site per source IP; 0 for messagesPerMinute means no rate limit. */
export const SiteLimitsSchema = Type.Object({
  maxConnections: Type.Integer({ minimum: 1, default: 10 }),
  messagesPerConnection: Type.Integer({ minimum: 1, default: 100 }),
  messagesPerMinute: Type.Number({ minimum: 0, default: 0 }),
}, closed);

/** A partial override: only the fields given replace the preset or default. */
export const SiteLimitsOverrideSchema = Type.Partial(SiteLimitsSchema, closed);

/** Delivery engine settings; owned by the delivery capability. */
export const DeliveryConfigSchema = Type.Object({
  /** Static routes: destination domain or `*` → `host:port` (smarthost, tests, benchmark). */
  routes: Type.Record(Type.String(), Type.String(), { default: {} }),
  /** Name given in EHLO and the Received line. */
  heloName: Type.String({ default: 'fanout.local' }),
  /**
   * How long a node's claim on a recipient lasts before another node may take it; renewed by
   * a heartbeat every third of it while the node works on the recipient. A node that dies
   * leaves its recipients to the others within this long.
   */
  leaseSeconds: Type.Number({ minimum: 3, maximum: 3600, default: 20 }),
  /**
   * Graceful stop: how long attempts already on the wire may take to finish before their
   * sessions are closed and their recipients handed back. Keep the service manager's stop
   * timeout (systemd TimeoutStopSec) at least 10 s above it.
   */
  stopSeconds: Type.Number({ minimum: 0, maximum: 600, default: 20 }),
  retry: Type.Object({
    initialMinutes: Type.Number({ minimum: 0, default: 5 }),
    factor: Type.Number({ minimum: 1, default: 2 }),
    maxIntervalMinutes: Type.Number({ minimum: 0, default: 240 }),
    maxAgeHours: Type.Number({ minimum: 0, default: 120 }),
  }, { ...closed, default: {} }),
  dns: Type.Object({
    /** node's resolver does not report MX TTLs, so MX answers are kept this long. */
    mxCacheSeconds: Type.Integer({ minimum: 0, default: 300 }),
    /** Cap on any cached answer, even when the record's TTL is longer. */
    maxCacheSeconds: Type.Integer({ minimum: 0, default: 3600 }),
    /** How long NXDOMAIN / no-address answers are remembered. */
    negativeCacheSeconds: Type.Integer({ minimum: 0, default: 300 }),
    /** How long SERVFAIL / timeouts are remembered so a burst for one domain asks once. */
    temporaryFailureCacheSeconds: Type.Integer({ minimum: 0, default: 30 }),
    timeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
  }, { ...closed, default: {} }),
  shaping: Type.Object({
    /** Limits for sites that match no preset. */
    defaults: Type.Object({
      maxConnections: Type.Integer({ minimum: 1, default: 10 }),
      messagesPerConnection: Type.Integer({ minimum: 1, default: 100 }),
      messagesPerMinute: Type.Number({ minimum: 0, default: 0 }),
    }, { ...closed, default: {} }),
    /** Built-in preset name (gmail, outlook, yahoo, qq, netease, sina, sohu, aliyun) → overrides. */
    presets: Type.Record(Type.String(), SiteLimitsOverrideSchema, { default: {} }),
    /** Extra presets matched by MX host pattern, tried before the built-in ones. */
    custom: Type.Array(Type.Object({
      name: Type.String({ minLength: 1 }),
      match: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      limits: SiteLimitsOverrideSchema,
    }, closed), { default: [] }),
    /**
     * On PostgreSQL, hold connection limits, message rates and back-off per (source IP, site)
     * across every node of the cluster (false: each node applies them alone).
     */
    clusterWide: Type.Boolean({ default: true }),
    /** Back-off: how long a site is suspended the first time (doubles on repeats, capped). */
    suspendMinutes: Type.Number({ minimum: 0, default: 5 }),
    maxSuspendMinutes: Type.Number({ minimum: 0, default: 60 }),
  }, { ...closed, default: {} }),
  egress: Type.Object({
    connectTimeoutMs: Type.Integer({ minimum: 100, default: 30000 }),
    greetingTimeoutMs: Type.Integer({ minimum: 100, default: 30000 }),
    /** Inactivity limit within a session (RFC 5321 asks for minutes; 5 is a compromise). */
    socketTimeoutMs: Type.Integer({ minimum: 100, default: 300000 }),
    /** Idle sessions are kept this long for reuse, then closed with QUIT. */
    idleMs: Type.Integer({ minimum: 0, default: 5000 }),
    /** Source addresses this node may bind to; empty means the system's choice. */
    sourceIps: Type.Array(Type.String(), { default: [] }),
  }, { ...closed, default: {} }),
  dkim: Type.Object({
    /** Signing threads; 0 signs on the calling thread. */
    workers: Type.Integer({ minimum: 0, maximum: 64, default: 2 }),
  }, { ...closed, default: {} }),
}, { ...closed, default: {} });

export type DeliveryConfig = Static<typeof DeliveryConfigSchema>;
export type SiteLimitsOverride = Static<typeof SiteLimitsOverrideSchema>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    delivery: DeliveryConfig;
  }
}
