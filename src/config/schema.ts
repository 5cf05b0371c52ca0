import { Type } from '@sinclair/typebox';
import type { Static, TObject, TSchema } from '@sinclair/typebox';

/**
 * The configuration with every default. Objects are closed
 * (additionalProperties: false) so a misspelt key in the config file is an error, not a no-op.
 */
const closed = { additionalProperties: false } as const;

export const HttpConfigSchema = Type.Object({
  host: Type.String({ default: '0.0.0.0' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  /** Base URL recipients and business systems reach (unsubscribe, tracking, forms). */
  publicUrl: Type.String({ default: 'http://localhost:8080' }),
  trustProxy: Type.Boolean({ default: false }),
  bodyLimitBytes: Type.Integer({ minimum: 1024, default: 50 * 1024 * 1024 }),
}, { ...closed, default: {} });

export const SubmissionConfigSchema = Type.Object({
  host: Type.String({ default: '0.0.0.0' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 2525 }),
  /** Implicit-TLS submission port (465-style); null disables it. */
  implicitTlsPort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], { default: null }),
  hostname: Type.String({ default: 'fanout.local' }),
  maxMessageBytes: Type.Integer({ minimum: 1024, default: 30 * 1024 * 1024 }),
  /** PEM files; when both are null a self-signed pair is made in the data folder on first start. */
  tlsCertFile: Type.Union([Type.String(), Type.Null()], { default: null }),
  tlsKeyFile: Type.Union([Type.String(), Type.Null()], { default: null }),
  authFailureDelayMs: Type.Integer({ minimum: 0, default: 1000 }),
  authLockoutFailures: Type.Integer({ minimum: 1, default: 5 }),
  authLockoutSeconds: Type.Integer({ minimum: 1, default: 900 }),
  /** Failed AUTH attempts from one client address (any user names) before that address is locked out. */
  authIpLockoutFailures: Type.Integer({ minimum: 1, default: 20 }),
  /** Early-talker check before the greeting; 0 greets at once (business systems connect here). */
  greetingDelayMs: Type.Integer({ minimum: 0, default: 0 }),
}, { ...closed, default: {} });

export const SecurityConfigSchema = Type.Object({
  sessionHours: Type.Number({ minimum: 0.05, default: 12 }),
  /** Failed sign-ins of one user name from one client address before that pair is locked. */
  loginLockoutFailures: Type.Integer({ minimum: 1, default: 5 }),
  /** How long a lock lasts, and the window failures are counted in. */
  loginLockoutMinutes: Type.Integer({ minimum: 1, default: 15 }),
  /** Failed sign-ins from one client address (any user names) before it must wait. */
  loginIpFailures: Type.Integer({ minimum: 1, default: 30 }),
  /**
   * The session cookie's Secure flag: "auto" sets it when the public URL is https or the
   * request came over TLS (directly, or through a trusted proxy's X-Forwarded-Proto).
   */
  secureCookies: Type.Union([Type.Boolean(), Type.Literal('auto')], { default: 'auto' }),
  /**
   * The secret key file (AES-256-GCM keys, one a line, the current first) that seals DKIM
   * keys, TOTP secrets and the platform secret; default `<dataDir>/secret.key`, made on first
   * start. FANOUT_SECRET_KEY, when set, wins.
   */
  encryptionKeyFile: Type.Union([Type.String(), Type.Null()], { default: null }),
  /** Keys given directly (FANOUT_SECRET_KEY: base64, comma-separated, current first). */
  encryptionKey: Type.Union([Type.String(), Type.Null()], { default: null }),
}, { ...closed, default: {} });

/**
 * What rendering templates may cost per request (an API call, a preview, a campaign batch),
 * summed over all its recipients.
 */
export const TemplatesConfigSchema = Type.Object({
  renderTimeMs: Type.Integer({ minimum: 10, default: 2_000 }),
  /** Range elements and filter results' characters the renders may allocate, in all. */
  renderMemory: Type.Integer({ minimum: 100_000, default: 64_000_000 }),
  /**
   * Bytes one request's (or campaign batch's) rendered messages may hold in all, a part they
   * share (an attachment, an unpersonalised body) counted once.
   */
  requestMessageBytes: Type.Integer({ minimum: 1_000_000, default: 128 * 1024 * 1024 }),
}, { ...closed, default: {} });

/** The platform's own sections; capabilities add theirs (configSchema below). */
export const CoreConfigSchema = Type.Object({
  dataDir: Type.String({ default: './data' }),
  databaseUrl: Type.Union([Type.String(), Type.Null()], { default: null }),
  /** Which parts run in this process: http, smtp (submission), bounce, sender. */
  roles: Type.Array(Type.Union([Type.Literal('http'), Type.Literal('smtp'), Type.Literal('bounce'), Type.Literal('sender')]), { default: ['http', 'smtp', 'bounce', 'sender'] }),
  /** IANA time zone for daily/monthly quota periods and statistics days. */
  timezone: Type.String({ default: 'UTC' }),
  logLevel: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info' }),
  http: HttpConfigSchema,
  smtp: SubmissionConfigSchema,
  security: SecurityConfigSchema,
  templates: TemplatesConfigSchema,
}, { ...closed, default: {} });

/**
 * The sections capabilities own (delivery, bounce, imports, operations, ...): each capability's
 * config.ts adds its section's type here by declaration merging, and its schema through its
 * registration object, so this file lists no capability.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CapabilityConfigSections {}

export type FanoutConfig = Static<typeof CoreConfigSchema> & CapabilityConfigSections;

/** The whole schema: the platform's sections and every registered capability's. */
export function configSchema(sections: Record<string, TSchema>): TObject {
  for (const key of Object.keys(sections)) {
    if (key in CoreConfigSchema.properties) throw new Error(`configuration section "${key}" is the platform's; a capability cannot redefine it`);
  }
  return Type.Object({ ...CoreConfigSchema.properties, ...sections }, { ...closed, default: {} });
}
