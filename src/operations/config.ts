import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

/**
 * The operations capability's configuration section (`operations` in the config file): health
 * inspections, their thresholds and schedule, fault tickets and their SLA calendar, surveys,
 * and what the reports print about the customer.
 */
const closed = { additionalProperties: false } as const;
const nullableString = (description: string) => Type.Union([Type.String(), Type.Null()], { default: null, description });
const Priority = Type.Union([Type.Literal('P1'), Type.Literal('P2'), Type.Literal('P3'), Type.Literal('P4')], { default: 'P2' });

export const ThresholdsSchema = Type.Object({
  cpuWarnPercent: Type.Number({ minimum: 0, default: 80 }),
  cpuErrorPercent: Type.Number({ minimum: 0, default: 95 }),
  memoryWarnPercent: Type.Number({ minimum: 0, default: 85 }),
  memoryErrorPercent: Type.Number({ minimum: 0, default: 95 }),
  diskWarnPercent: Type.Number({ minimum: 0, default: 80 }),
  diskErrorPercent: Type.Number({ minimum: 0, default: 90 }),
  temperatureWarnCelsius: Type.Number({ default: 75 }),
  temperatureErrorCelsius: Type.Number({ default: 90 }),
  /** Share of a link's speed in use; only judged where the interface reports its speed. */
  bandwidthWarnPercent: Type.Number({ minimum: 0, default: 70 }),
  bandwidthErrorPercent: Type.Number({ minimum: 0, default: 90 }),
  databaseLatencyWarnMs: Type.Number({ minimum: 0, default: 200 }),
  serviceLatencyWarnMs: Type.Number({ minimum: 0, default: 1000 }),
  queueDepthWarn: Type.Integer({ minimum: 0, default: 100_000 }),
  queueDepthError: Type.Integer({ minimum: 0, default: 1_000_000 }),
  queueOldestWarnMinutes: Type.Number({ minimum: 0, default: 60 }),
  queueOldestErrorMinutes: Type.Number({ minimum: 0, default: 240 }),
  certificateWarnDays: Type.Integer({ minimum: 0, default: 30 }),
  certificateErrorDays: Type.Integer({ minimum: 0, default: 7 }),
  sendReceiveWarnSeconds: Type.Number({ minimum: 0, default: 30 }),
  /** A provider (MX site) refusing at least this share of at least `providerMinAttempts` attempts in the window. */
  providerRefusalPercent: Type.Number({ minimum: 0, default: 80 }),
  providerMinAttempts: Type.Integer({ minimum: 1, default: 50 }),
  providerWindowMinutes: Type.Integer({ minimum: 1, default: 60 }),
  /** A node whose heartbeat is older than this many heartbeat intervals is taken as down. */
  nodeStaleIntervals: Type.Number({ minimum: 1, default: 3 }),
}, { ...closed, default: {} });

export const OperationsConfigSchema = Type.Object({
  /** What the reports print as 客户方: the bank, its contact and the service place. */
  customer: Type.Object({
    name: Type.String({ default: '' }),
    contact: Type.String({ default: '' }),
    phone: Type.String({ default: '' }),
    email: Type.String({ default: '' }),
    place: Type.String({ default: '' }),
  }, { ...closed, default: {} }),
  /** How often each node writes its heartbeat (nodes seen, roles running). */
  heartbeatSeconds: Type.Integer({ minimum: 1, default: 30 }),
  schedule: Type.Object({
    enabled: Type.Boolean({ default: true }),
    /** Full inspection: once a day at this local time (operations timezone). */
    fullAt: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', default: '02:00' }),
    /** Light checks (services, database, queue, providers) this often; 0 switches them off. */
    lightEveryMinutes: Type.Number({ minimum: 0, default: 5 }),
    /** SLA escalations and breach flags are checked this often. */
    escalationEverySeconds: Type.Integer({ minimum: 1, default: 30 }),
  }, { ...closed, default: {} }),
  thresholds: ThresholdsSchema,
  /** The resolver of the DNS and blocklist checks; empty means the system's. `IP` or `IP:port`. */
  dns: Type.Object({
    servers: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    timeoutMs: Type.Integer({ minimum: 50, default: 3000 }),
  }, { ...closed, default: {} }),
  blocklist: Type.Object({
    /** DNSBL zones asked for every source address. */
    zones: Type.Array(Type.String({ minLength: 1 }), { default: ['zen.spamhaus.org', 'bl.spamcop.net', 'b.barracudacentral.org'] }),
    /** Public addresses receivers see (NAT) in addition to delivery.egress.sourceIps. */
    ips: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  }, { ...closed, default: {} }),
  /** Where a newer release is announced: a URL or file with `{"version": "x.y.z", "url"?, "notes"?}`. Nothing is fetched unless set. */
  releaseFeed: nullableString('release feed URL (http/https) or file path; null: no upgrade check'),
  /** The end-to-end probe: submitted to Fanout's own SMTP port, delivered back into the bounce listener. */
  probe: Type.Object({
    /** Envelope and header sender; its domain must be a sending domain whose account may submit from here. */
    from: nullableString('probe sender address, e.g. probe@mail.bank.example; null: no probe'),
    /** SMTP AUTH credentials of the probe account; without them the account must allow 127.0.0.1 (--allow-ip). */
    username: nullableString('SMTP user of the probe account'),
    password: nullableString('SMTP password of the probe account (or FANOUT_PROBE_PASSWORD)'),
    /** Submission endpoint; default 127.0.0.1 and smtp.port. */
    smtpHost: Type.String({ default: '127.0.0.1' }),
    smtpPort: Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.Null()], { default: null }),
    timeoutSeconds: Type.Number({ minimum: 1, default: 120 }),
  }, { ...closed, default: {} }),
  /** Addresses the service checks connect to; default loopback and this node's configured ports. */
  endpoints: Type.Object({
    smtp: nullableString('host:port of SMTP submission'),
    http: nullableString('base URL of the HTTP API'),
    bounce: nullableString('host:port of the bounce listener'),
  }, { ...closed, default: {} }),
  /** Mail the operations capability sends (escalations, surveys) goes through Fanout itself. */
  mail: Type.Object({
    from: nullableString('sender address of escalation and survey mail; its domain must be a sending domain'),
    account: nullableString('sending account (name or id) of that domain\'s tenant'),
  }, { ...closed, default: {} }),
  tickets: Type.Object({
    timezone: nullableString('time zone of the SLA calendar and working days; default the platform timezone'),
    /** 24x7: every hour counts (the seed's 7×24 service); business: only the working hours below. */
    calendar: Type.Union([Type.Literal('24x7'), Type.Literal('business')], { default: '24x7' }),
    workingDays: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { default: [1, 2, 3, 4, 5], description: '0 = Sunday' }),
    workingHours: Type.Object({
      start: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', default: '09:00' }),
      end: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$|^24:00$', default: '18:00' }),
    }, { ...closed, default: {} }),
    /** Days off (YYYY-MM-DD) for the business calendar and the fault report's working days. */
    holidays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), { default: [] }),
    /** Extra working days on weekends (调休). */
    workdays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), { default: [] }),
    responseMinutes: Type.Number({ minimum: 1, default: 15 }),
    resolutionHours: Type.Object({
      P1: Type.Number({ minimum: 0.1, default: 24 }),
      P2: Type.Number({ minimum: 0.1, default: 48 }),
      P3: Type.Number({ minimum: 0.1, default: 120 }),
      P4: Type.Number({ minimum: 0.1, default: 168 }),
    }, { ...closed, default: {} }),
    escalationPercents: Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), { default: [50, 80, 100] }),
    /** Who is mailed at each escalation step, by percent ("50", "80", "100"); "*" for every step. */
    escalationContacts: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
    faultReportWorkingDays: Type.Integer({ minimum: 1, default: 3 }),
  }, { ...closed, default: {} }),
  surveys: Type.Object({
    linkDays: Type.Number({ minimum: 0.01, default: 14 }),
    criticalFollowUpPriority: Priority,
  }, { ...closed, default: {} }),
  reports: Type.Object({
    /** A TTF/OTF/TTC with Chinese glyphs for PDF reports; null looks in the usual system places. */
    fontFile: nullableString('CJK font for PDF reports'),
    /** The PostScript name inside a .ttc collection. */
    fontName: nullableString('face inside a font collection, e.g. NotoSansCJKsc-Regular'),
  }, { ...closed, default: {} }),
}, { ...closed, default: {} });

export type OperationsConfig = Static<typeof OperationsConfigSchema>;
export type Thresholds = Static<typeof ThresholdsSchema>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    operations: OperationsConfig;
  }
}
