import fs from 'node:fs';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { configSchema } from './schema.ts';
import type { FanoutConfig } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `*=127.0.0.1:2600,bank.test=relay.bank.test:25` into a route table. */
export function parseRoutes(text: string): Record<string, string> {
  const routes: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`FANOUT_ROUTES: "${part}" is not domain=host:port`);
    const domain = part.slice(0, eq).trim().toLowerCase();
    const target = part.slice(eq + 1).trim();
    if (!/^[^:\s]+(:\d{1,5})?$/.test(target) && !/^\[[0-9a-f:.]+\](:\d{1,5})?$/i.test(target)) {
      throw new ConfigError(`FANOUT_ROUTES: "${target}" for ${domain} is not host:port`);
    }
    routes[domain] = target;
  }
  return routes;
}

function intFromEnv(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be a whole number, got "${value}"`);
  return Number(value);
}

/** What the environment overrides, as a partial config tree. */
function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, Record<string, unknown> | unknown> = {};
  const section = (name: string) => ((out[name] ??= {}) as Record<string, unknown>);
  if (env.FANOUT_DATA_DIR) out.dataDir = env.FANOUT_DATA_DIR;
  if (env.FANOUT_DATABASE_URL) out.databaseUrl = env.FANOUT_DATABASE_URL;
  if (env.FANOUT_TIMEZONE) out.timezone = env.FANOUT_TIMEZONE;
  if (env.FANOUT_LOG_LEVEL) out.logLevel = env.FANOUT_LOG_LEVEL;
  if (env.FANOUT_ROLES) out.roles = env.FANOUT_ROLES.split(',').map((r) => r.trim()).filter(Boolean);
  if (env.FANOUT_HTTP_PORT) section('http').port = intFromEnv('FANOUT_HTTP_PORT', env.FANOUT_HTTP_PORT);
  if (env.FANOUT_HTTP_HOST) section('http').host = env.FANOUT_HTTP_HOST;
  if (env.FANOUT_PUBLIC_URL) section('http').publicUrl = env.FANOUT_PUBLIC_URL;
  if (env.FANOUT_SMTP_PORT) section('smtp').port = intFromEnv('FANOUT_SMTP_PORT', env.FANOUT_SMTP_PORT);
  if (env.FANOUT_SMTP_TLS_PORT) section('smtp').implicitTlsPort = intFromEnv('FANOUT_SMTP_TLS_PORT', env.FANOUT_SMTP_TLS_PORT);
  if (env.FANOUT_SMTP_HOSTNAME) section('smtp').hostname = env.FANOUT_SMTP_HOSTNAME;
  if (env.FANOUT_BOUNCE_PORT) section('bounce').port = intFromEnv('FANOUT_BOUNCE_PORT', env.FANOUT_BOUNCE_PORT);
  if (env.FANOUT_ROUTES) section('delivery').routes = parseRoutes(env.FANOUT_ROUTES);
  if (env.FANOUT_HOOKS) section('hooks').modules = env.FANOUT_HOOKS.split(',').map((m) => m.trim()).filter(Boolean);
  if (env.FANOUT_METRICS_TOKEN) section('metrics').token = env.FANOUT_METRICS_TOKEN;
  if (env.FANOUT_WEBHOOK_ALLOWED_NETWORKS !== undefined) section('webhooks').allowedNetworks = env.FANOUT_WEBHOOK_ALLOWED_NETWORKS.split(',').map((n) => n.trim()).filter(Boolean);
  if (env.FANOUT_SECRET_KEY) section('security').encryptionKey = env.FANOUT_SECRET_KEY;
  if (env.FANOUT_SECRET_KEY_FILE) section('security').encryptionKeyFile = env.FANOUT_SECRET_KEY_FILE;
  if (env.FANOUT_SECURE_COOKIES) section('security').secureCookies = env.FANOUT_SECURE_COOKIES === 'auto' ? 'auto' : /^(1|true|yes|on)$/i.test(env.FANOUT_SECURE_COOKIES);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    // Route tables replace, never merge: an environment route list is the whole list.
    out[k] = k === 'routes' ? v : merge(base[k], v);
  }
  return out;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Explicit config file; otherwise FANOUT_CONFIG, otherwise ./fanout.config.json when present. */
  file?: string | null;
  /** Values that win over everything (command-line flags). */
  overrides?: Record<string, unknown>;
  /** The capabilities' sections (the composition root collects them from their registrations). */
  sections: Record<string, TSchema>;
}

export function loadConfig(options: LoadOptions): FanoutConfig {
  const ConfigSchema = configSchema(options.sections);
  const env = options.env ?? process.env;
  const file = options.file ?? env.FANOUT_CONFIG ?? (fs.existsSync('fanout.config.json') ? 'fanout.config.json' : null);
  let fromFile: unknown = {};
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    try {
      fromFile = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (isPlainObject(fromFile) && typeof fromFile.delivery === 'object' && fromFile.delivery && typeof (fromFile.delivery as Record<string, unknown>).routes === 'string') {
      (fromFile.delivery as Record<string, unknown>).routes = parseRoutes((fromFile.delivery as Record<string, string>).routes as string);
    }
  }
  const merged = merge(merge(fromFile, fromEnvironment(env)), options.overrides ?? {});
  const withDefaults = Value.Default(ConfigSchema, structuredClone(merged));
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length) {
    const lines = errors.slice(0, 10).map((e) => `  ${e.path || '/'}: ${e.message}${e.schema && (e.schema as { additionalProperties?: boolean }).additionalProperties === false ? ' (unknown key)' : ''}`);
    throw new ConfigError(`invalid configuration${file ? ` (file ${file})` : ''}:\n${lines.join('\n')}`);
  }
  const config = withDefaults as FanoutConfig;
  config.dataDir = path.resolve(config.dataDir);
  if (config.security.encryptionKeyFile) config.security.encryptionKeyFile = path.resolve(config.security.encryptionKeyFile);
  for (const [domain, target] of Object.entries(config.delivery?.routes ?? {})) parseRoutes(`${domain}=${target}`);
  return config;
}

/** The configuration as `fanout config` prints it: secrets in URLs and secret keys masked. */
export function printableConfig(config: FanoutConfig): FanoutConfig {
  const copy = structuredClone(config);
  if (copy.security.encryptionKey) copy.security.encryptionKey = '***';
  if (copy.databaseUrl) {
    try {
      const u = new URL(copy.databaseUrl);
      if (u.password) u.password = '***';
      copy.databaseUrl = u.toString();
    } catch {
      copy.databaseUrl = '***';
    }
  }
  return copy;
}
