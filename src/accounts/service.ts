import ipaddr from 'ipaddr.js';
import { emitWebhookEvents } from '../webhooks/index.ts';
import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { AppError, conflict, invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { hashPassword, VerifiedPasswordCache, verifyDummyPassword } from '../core/passwords.ts';
import { requireAccountName, requirePassword } from '../core/validate.ts';
import type { Executor, Store, Tx } from '../store/store.ts';
import type { SendingAccountTable } from './tables.ts';
import { alertLevel, periodKey, SENDING_TYPES } from './quota.ts';
import type { SendingType } from './quota.ts';

export const ACCOUNT_STATUSES = ['active', 'held', 'disabled'] as const;

export interface SendingAccount {
  id: string;
  tenantId: string;
  name: string;
  status: string;
  sendingType: string;
  quota: number | null;
  used: number;
  remaining: number | null;
  /** Bytes accepted for delivery in the period (message size × recipients), and their limit. */
  quotaBytes: number | null;
  usedBytes: number;
  periodKey: string | null;
  allowIps: string[];
  maxConnections: number;
  messagesPerMinute: number;
  tracking: boolean;
  hasPassword: boolean;
  createdAt: string;
}

function toAccount(r: SendingAccountTable): SendingAccount {
  return {
    id: r.id, tenantId: r.tenant_id, name: r.name, status: r.status, sendingType: r.sending_type,
    quota: r.quota, used: r.used, remaining: r.quota === null ? null : Math.max(r.quota - r.used, 0),
    quotaBytes: r.quota_bytes, usedBytes: Number(r.used_bytes ?? 0), periodKey: r.period_key,
    allowIps: JSON.parse(r.allow_ips) as string[], maxConnections: r.max_connections, messagesPerMinute: r.messages_per_minute,
    tracking: r.tracking === 1, hasPassword: r.password_hash !== null, createdAt: new Date(r.created_at).toISOString(),
  };
}

export function parseCidrs(value: unknown, field = 'allowIps'): string[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be a list of addresses or CIDR ranges`, [{ field, message: 'must be an array' }]);
  if (value.length > 100) throw invalid(`${field} has more than 100 entries`, [{ field, message: 'at most 100 entries' }]);
  return value.map((v, i) => {
    if (typeof v !== 'string') throw invalid(`${field}[${i}] must be a string`, [{ field: `${field}/${i}`, message: 'must be a string' }]);
    try {
      const [addr, bits] = v.includes('/') ? ipaddr.parseCIDR(v) : [ipaddr.parse(v), ipaddr.parse(v).kind() === 'ipv4' ? 32 : 128];
      return `${addr.toString()}/${bits}`;
    } catch {
      throw invalid(`${field}[${i}] "${v}" is not an IP address or CIDR range`, [{ field: `${field}/${i}`, message: 'not an IP address or CIDR range' }]);
    }
  });
}

function ipMatches(ip: string, cidrs: string[]): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip);
  } catch {
    return false;
  }
  return cidrs.some((c) => {
    const [range, bits] = ipaddr.parseCIDR(c);
    const candidate = addr.kind() === range.kind() ? addr : addr.kind() === 'ipv4' ? (addr as ipaddr.IPv4).toIPv4MappedAddress() : null;
    return candidate !== null && candidate.kind() === range.kind() && candidate.match([range, bits] as [ipaddr.IPv4 | ipaddr.IPv6, number]);
  });
}

function requireQuota(value: unknown, field = 'quota', unit = 'messages'): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1e15) {
    throw invalid(`${field} must be a whole number of ${unit} (0 or more), or null for unlimited`, [{ field, message: 'whole number ≥ 0 or null' }]);
  }
  return value;
}

function requirePositiveInt(field: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalid(`${field} must be a whole number from 1 to ${max}`, [{ field, message: `1..${max}` }]);
  }
  return value;
}

function requireOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw invalid(`${field} must be one of ${allowed.join(', ')}`, [{ field, message: `one of ${allowed.join(', ')}` }]);
  return value as T;
}

export interface CreateAccountInput {
  tenantId: string;
  name: unknown;
  password?: unknown;
  sendingType?: unknown;
  quota?: unknown;
  quotaBytes?: unknown;
  allowIps?: unknown;
  maxConnections?: unknown;
  messagesPerMinute?: unknown;
  tracking?: unknown;
}

export async function createAccount(store: Store, actor: Actor, input: CreateAccountInput): Promise<SendingAccount> {
  const name = requireAccountName(input.name);
  const password = input.password === undefined || input.password === null ? null : requirePassword(input.password);
  const sendingType: SendingType = input.sendingType === undefined ? 'total' : requireOneOf('sendingType', input.sendingType, SENDING_TYPES);
  const quota = input.quota === undefined ? null : requireQuota(input.quota);
  const quotaBytes = input.quotaBytes === undefined ? null : requireQuota(input.quotaBytes, 'quotaBytes', 'bytes');
  const allowIps = input.allowIps === undefined ? [] : parseCidrs(input.allowIps);
  const maxConnections = input.maxConnections === undefined ? 20 : requirePositiveInt('maxConnections', input.maxConnections, 1000);
  const messagesPerMinute = input.messagesPerMinute === undefined ? 600_000 : requirePositiveInt('messagesPerMinute', input.messagesPerMinute, 10_000_000);
  if (input.tracking !== undefined && typeof input.tracking !== 'boolean') throw invalid('tracking must be true or false', [{ field: 'tracking', message: 'boolean' }]);
  if (!password && allowIps.length === 0) {
    throw invalid('an account needs a password (SMTP AUTH) or allowed client addresses (allowIps)', [{ field: 'password', message: 'required unless allowIps is given' }]);
  }
  const passwordHash = password ? await hashPassword(password) : null;
  return store.transaction(async (trx) => {
    const tenant = await trx.selectFrom('tenants').select(['id', 'name']).where('id', '=', input.tenantId).executeTakeFirst();
    if (!tenant) throw notFound('tenant');
    const clash = await trx.selectFrom('sending_accounts').select('id').where('name_key', '=', name.toLowerCase()).executeTakeFirst();
    if (clash) throw conflict(`an account named "${name}" already exists (account names are SMTP user names and unique across the platform)`);
    const now = Date.now();
    const row: SendingAccountTable = {
      id: newId('ac', now), tenant_id: tenant.id, name, name_key: name.toLowerCase(), password_hash: passwordHash,
      sending_type: sendingType, quota, used: 0, quota_bytes: quotaBytes, used_bytes: 0, period_key: periodKey(sendingType, now), alert_level: 0, status: 'active',
      allow_ips: JSON.stringify(allowIps), max_connections: maxConnections, messages_per_minute: messagesPerMinute,
      tracking: input.tracking === false ? 0 : 1, created_at: now, updated_at: now,
    };
    await trx.insertInto('sending_accounts').values(row).execute();
    await recordOperation(trx, actor, {
      operation: 'account.create', objectType: 'account', objectId: row.id, tenantId: tenant.id,
      description: `created sending account ${name} for tenant ${tenant.name}`,
      details: { name, sendingType, quota, quotaBytes, allowIps, maxConnections, messagesPerMinute, password: password ? 'set' : null },
    });
    return toAccount(row);
  });
}

export async function listAccounts(db: Executor, scope: { tenantId?: string | null } = {}): Promise<SendingAccount[]> {
  let q = db.selectFrom('sending_accounts').selectAll().where('status', '!=', 'deleted').orderBy('name_key');
  if (scope.tenantId) q = q.where('tenant_id', '=', scope.tenantId);
  return (await q.execute()).map(toAccount);
}

async function row(db: Executor, id: string): Promise<SendingAccountTable> {
  const r = await db.selectFrom('sending_accounts').selectAll().where('id', '=', id).where('status', '!=', 'deleted').executeTakeFirst();
  if (!r) throw notFound('account');
  return r;
}

export async function getAccount(db: Executor, id: string): Promise<SendingAccount> {
  return toAccount(await row(db, id));
}

/** An account by id, or by name within a tenant, as the CLI's `--account N` accepts either. */
export async function resolveAccount(db: Executor, tenantId: string, idOrName: string): Promise<SendingAccount> {
  const r = await db.selectFrom('sending_accounts').selectAll().where('tenant_id', '=', tenantId).where('status', '!=', 'deleted')
    .where((eb) => eb.or([eb('id', '=', idOrName), eb('name_key', '=', idOrName.toLowerCase())])).executeTakeFirst();
  if (!r) throw notFound(`account "${idOrName}"`);
  return toAccount(r);
}

export interface UpdateAccountInput {
  sendingType?: unknown;
  quota?: unknown;
  quotaBytes?: unknown;
  status?: unknown;
  allowIps?: unknown;
  maxConnections?: unknown;
  messagesPerMinute?: unknown;
  tracking?: unknown;
}

export async function updateAccount(store: Store, actor: Actor, id: string, patch: UpdateAccountInput): Promise<SendingAccount> {
  const changes: Partial<SendingAccountTable> = {};
  if (patch.sendingType !== undefined) changes.sending_type = requireOneOf('sendingType', patch.sendingType, SENDING_TYPES);
  if (patch.quota !== undefined) changes.quota = requireQuota(patch.quota);
  if (patch.quotaBytes !== undefined) changes.quota_bytes = requireQuota(patch.quotaBytes, 'quotaBytes', 'bytes');
  if (patch.status !== undefined) changes.status = requireOneOf('status', patch.status, ACCOUNT_STATUSES);
  if (patch.allowIps !== undefined) changes.allow_ips = JSON.stringify(parseCidrs(patch.allowIps));
  if (patch.maxConnections !== undefined) changes.max_connections = requirePositiveInt('maxConnections', patch.maxConnections, 1000);
  if (patch.messagesPerMinute !== undefined) changes.messages_per_minute = requirePositiveInt('messagesPerMinute', patch.messagesPerMinute, 10_000_000);
  if (patch.tracking !== undefined) {
    if (typeof patch.tracking !== 'boolean') throw invalid('tracking must be true or false', [{ field: 'tracking', message: 'boolean' }]);
    changes.tracking = patch.tracking ? 1 : 0;
  }
  return store.transaction(async (trx) => {
    const current = await row(trx, id);
    const now = Date.now();
    if (changes.sending_type && changes.sending_type !== current.sending_type) {
      changes.period_key = periodKey(changes.sending_type, now);
      changes.used = 0;
      changes.used_bytes = 0;
    }
    // A raised quota clears alerts the new headroom makes untrue.
    const quota = changes.quota !== undefined ? changes.quota : current.quota;
    changes.alert_level = Math.min(current.alert_level, alertLevel(changes.used ?? current.used, quota));
    await trx.updateTable('sending_accounts').set({ ...changes, updated_at: now }).where('id', '=', id).execute();
    await recordOperation(trx, actor, {
      operation: 'account.update', objectType: 'account', objectId: id, tenantId: current.tenant_id,
      description: `updated sending account ${current.name}`, details: { ...patch },
    });
    return getAccount(trx, id);
  });
}

export async function setAccountPassword(store: Store, actor: Actor, id: string, password: unknown): Promise<void> {
  const pw = requirePassword(password);
  const hash = await hashPassword(pw);
  await store.transaction(async (trx) => {
    const current = await row(trx, id);
    await trx.updateTable('sending_accounts').set({ password_hash: hash, updated_at: Date.now() }).where('id', '=', id).execute();
    await recordOperation(trx, actor, { operation: 'account.password', objectType: 'account', objectId: id, tenantId: current.tenant_id, description: `changed the SMTP password of ${current.name}` });
  });
}

/** Deleting keeps the row (delivery history points at it) but frees the name and revokes keys. */
export async function deleteAccount(store: Store, actor: Actor, id: string): Promise<void> {
  await store.transaction(async (trx) => {
    const current = await row(trx, id);
    const now = Date.now();
    await trx.updateTable('sending_accounts').set({ status: 'deleted', name_key: `${current.name_key}#deleted#${id}`, password_hash: null, allow_ips: '[]', updated_at: now }).where('id', '=', id).execute();
    await trx.updateTable('api_keys').set({ revoked_at: now }).where('account_id', '=', id).where('revoked_at', 'is', null).execute();
    await recordOperation(trx, actor, { operation: 'account.delete', objectType: 'account', objectId: id, tenantId: current.tenant_id, description: `deleted sending account ${current.name}` });
  });
}

const passwordCache = new VerifiedPasswordCache();

/** SMTP AUTH: the active account with this name and password, or null. */
export async function authenticateSmtp(store: Store, username: string, password: string): Promise<SendingAccount | null> {
  const r = await store.db.selectFrom('sending_accounts').selectAll().where('name_key', '=', username.toLowerCase()).executeTakeFirst();
  // An unknown, password-less or disabled account costs one verification like a real one.
  if (!r || !r.password_hash || r.status === 'deleted' || r.status === 'disabled') return verifyDummyPassword(password).then(() => null);
  return (await passwordCache.verify(r.password_hash, password)) ? toAccount(r) : null;
}

/** Accounts that let this client address submit without AUTH. */
export async function accountsForClientIp(store: Store, ip: string): Promise<SendingAccount[]> {
  const rows = await store.db.selectFrom('sending_accounts').selectAll().where('allow_ips', '!=', '[]').where('status', 'in', ['active', 'held']).execute();
  return rows.filter((r) => ipMatches(ip, JSON.parse(r.allow_ips) as string[])).map(toAccount);
}

export type QuotaReservation = { ok: true; used: number; quota: number | null } | { ok: false; reason: 'quota_exceeded' | 'held' | 'disabled'; message: string };

/**
 * Counts `count` messages and `bytes` bytes against the account's quotas, atomically, or
 * refuses. Renews the counters when a daily/monthly period has turned, and raises the 90% and
 * 100% alerts (of the message quota) once each.
 */
export async function reserveQuota(trx: Tx, accountId: string, count: number, now = Date.now(), bytes = 0): Promise<QuotaReservation> {
  const r = await trx.selectFrom('sending_accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
  if (!r || r.status === 'deleted' || r.status === 'disabled') return { ok: false, reason: 'disabled', message: 'the sending account is disabled' };
  if (r.status === 'held') return { ok: false, reason: 'held', message: 'sending is held for this account by an administrator' };
  const period = periodKey(r.sending_type, now);
  let used = r.used;
  let usedBytes = Number(r.used_bytes ?? 0);
  let level = r.alert_level;
  if (period !== r.period_key) {
    used = 0;
    usedBytes = 0;
    level = 0;
  }
  const per = r.sending_type === 'total' ? '' : `${r.sending_type} `;
  if (r.quota !== null && used + count > r.quota) {
    return { ok: false, reason: 'quota_exceeded', message: `quota exhausted: ${used} of ${r.quota} ${per}messages used` };
  }
  if (r.quota_bytes !== null && usedBytes + bytes > r.quota_bytes) {
    return { ok: false, reason: 'quota_exceeded', message: `byte quota exhausted: ${usedBytes} of ${r.quota_bytes} ${per}bytes used, ${bytes} more asked for` };
  }
  const newUsed = used + count;
  const newLevel = Math.max(level, alertLevel(newUsed, r.quota));
  // The guard on `used` makes concurrent reservations on PostgreSQL safe: a lost race retries.
  const res = await trx.updateTable('sending_accounts').set({ used: newUsed, used_bytes: usedBytes + bytes, period_key: period, alert_level: newLevel, updated_at: now })
    .where('id', '=', accountId).where('used', '=', r.used).where('used_bytes', '=', r.used_bytes).executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) return reserveQuota(trx, accountId, count, now, bytes);
  if (newLevel > level && r.quota !== null) {
    await trx.insertInto('quota_alerts').values({ tenant_id: r.tenant_id, account_id: r.id, level: newLevel, used: newUsed, quota: r.quota, period_key: period, at: now }).execute();
    await emitWebhookEvents(trx, [{
      tenantId: r.tenant_id, at: now, type: newLevel >= 100 ? 'account.quota_exhausted' : 'account.quota_warning',
      data: { accountId: r.id, accountName: r.name, level: newLevel, used: newUsed, quota: r.quota, period: period },
    }]);
  }
  return { ok: true, used: newUsed, quota: r.quota };
}

/** Raised by callers that turn a refused reservation into an error. */
export function quotaError(res: Exclude<QuotaReservation, { ok: true }>): AppError {
  return new AppError(res.reason === 'quota_exceeded' ? 'quota_exceeded' : 'forbidden', res.message);
}

export async function listQuotaAlerts(db: Executor, scope: { tenantId?: string | null; accountId?: string } = {}) {
  let q = db.selectFrom('quota_alerts').selectAll().orderBy('id', 'desc').limit(200);
  if (scope.tenantId) q = q.where('tenant_id', '=', scope.tenantId);
  if (scope.accountId) q = q.where('account_id', '=', scope.accountId);
  return (await q.execute()).map((a) => ({ id: a.id, tenantId: a.tenant_id, accountId: a.account_id, level: a.level, used: a.used, quota: a.quota, period: a.period_key, at: new Date(a.at).toISOString() }));
}
