import { createHash, randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verifySync } from 'otplib';
import type { Actor } from '../audit/log.ts';
import { recordOperation } from '../audit/log.ts';
import { AppError, conflict, invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { hashPassword, verifyPassword } from '../core/passwords.ts';
import { requireName, requirePassword } from '../core/validate.ts';
import type { Executor, Store } from '../store/store.ts';
import type { ConsoleUserTable } from './tables.ts';

export const ROLES = ['administrator', 'operator', 'auditor', 'support'] as const;
export type Role = (typeof ROLES)[number];

export interface UserView {
  id: string;
  username: string;
  role: Role;
  tenantId: string | null;
  totpEnabled: boolean;
  locked: boolean;
  disabled: boolean;
  locale: string;
  createdAt: string;
}

const view = (u: ConsoleUserTable, now = Date.now()): UserView => ({
  id: u.id, username: u.username, role: u.role as Role, tenantId: u.tenant_id, totpEnabled: u.totp_enabled === 1,
  locked: (u.locked_until ?? 0) > now, disabled: u.disabled === 1, locale: u.locale, createdAt: new Date(u.created_at).toISOString(),
});

function requireRole(value: unknown): Role {
  if (typeof value !== 'string' || !ROLES.includes(value as Role)) throw invalid(`role must be one of ${ROLES.join(', ')}`, [{ field: 'role', message: `one of ${ROLES.join(', ')}` }]);
  return value as Role;
}

function requireUsername(value: unknown): string {
  const v = requireName('username', value, 64);
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(v)) throw invalid('username may contain only letters, digits and . _ @ -', [{ field: 'username', message: 'invalid characters' }]);
  return v;
}

export async function createUser(store: Store, actor: Actor, input: { username: unknown; password: unknown; role: unknown; tenantId?: unknown; locale?: unknown }): Promise<UserView> {
  const username = requireUsername(input.username);
  const password = requirePassword(input.password);
  const role = requireRole(input.role);
  const tenantId = input.tenantId === undefined || input.tenantId === null ? null : String(input.tenantId);
  if (role === 'operator' && !tenantId) throw invalid('an operator belongs to a tenant: give tenantId', [{ field: 'tenantId', message: 'required for operators' }]);
  if (role !== 'operator' && tenantId) throw invalid('only operators are scoped to a tenant', [{ field: 'tenantId', message: 'only for operators' }]);
  const locale = input.locale === undefined ? 'zh-CN' : input.locale === 'en' || input.locale === 'zh-CN' ? input.locale : null;
  if (!locale) throw invalid('locale must be zh-CN or en', [{ field: 'locale', message: 'zh-CN or en' }]);
  const hash = await hashPassword(password);
  return store.transaction(async (trx) => {
    if (tenantId && !(await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst())) throw notFound('tenant');
    if (await trx.selectFrom('console_users').select('id').where('username', '=', username).executeTakeFirst()) throw conflict(`a user named "${username}" already exists`);
    const now = Date.now();
    const row: ConsoleUserTable = {
      id: newId('us', now), username, password_hash: hash, role, tenant_id: tenantId, totp_secret: null, totp_enabled: 0, failed_logins: 0,
      locked_until: null, locale, disabled: 0, must_change_password: 0, created_at: now, updated_at: now,
    };
    await trx.insertInto('console_users').values(row).execute();
    await recordOperation(trx, actor, { operation: 'user.create', objectType: 'user', objectId: row.id, tenantId, description: `created ${role} ${username}`, details: { username, role, tenantId } });
    return view(row);
  });
}

export async function listUsers(db: Executor, scope: { tenantId?: string | null } = {}): Promise<UserView[]> {
  let q = db.selectFrom('console_users').selectAll().orderBy('username');
  if (scope.tenantId) q = q.where('tenant_id', '=', scope.tenantId);
  return (await q.execute()).map((u) => view(u));
}

async function userRow(db: Executor, idOrName: string): Promise<ConsoleUserTable> {
  const u = await db.selectFrom('console_users').selectAll().where((eb) => eb.or([eb('id', '=', idOrName), eb('username', '=', idOrName)])).executeTakeFirst();
  if (!u) throw notFound('user');
  return u;
}

export async function getUser(db: Executor, idOrName: string): Promise<UserView> {
  return view(await userRow(db, idOrName));
}

export async function updateUser(store: Store, actor: Actor, id: string, patch: { role?: unknown; disabled?: unknown; locale?: unknown; unlock?: unknown }): Promise<UserView> {
  return store.transaction(async (trx) => {
    const u = await userRow(trx, id);
    const changes: Partial<ConsoleUserTable> = {};
    if (patch.role !== undefined) {
      changes.role = requireRole(patch.role);
      if (changes.role === 'operator' && !u.tenant_id) throw invalid('an operator belongs to a tenant', [{ field: 'role', message: 'operator needs a tenant' }]);
      if (changes.role !== 'operator') changes.tenant_id = null;
    }
    if (patch.disabled !== undefined) {
      if (typeof patch.disabled !== 'boolean') throw invalid('disabled must be true or false', [{ field: 'disabled', message: 'boolean' }]);
      changes.disabled = patch.disabled ? 1 : 0;
    }
    if (patch.locale !== undefined) {
      if (patch.locale !== 'en' && patch.locale !== 'zh-CN') throw invalid('locale must be zh-CN or en', [{ field: 'locale', message: 'zh-CN or en' }]);
      changes.locale = patch.locale;
    }
    if (patch.unlock === true) {
      changes.locked_until = null;
      changes.failed_logins = 0;
    }
    await trx.updateTable('console_users').set({ ...changes, updated_at: Date.now() }).where('id', '=', u.id).execute();
    if (changes.disabled === 1) await trx.deleteFrom('sessions').where('user_id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.update', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `updated user ${u.username}`, details: { ...patch } });
    return getUser(trx, u.id);
  });
}

export async function setUserPassword(store: Store, actor: Actor, id: string, password: unknown): Promise<void> {
  const pw = requirePassword(password);
  const hash = await hashPassword(pw);
  await store.transaction(async (trx) => {
    const u = await userRow(trx, id);
    await trx.updateTable('console_users').set({ password_hash: hash, must_change_password: 0, failed_logins: 0, locked_until: null, updated_at: Date.now() }).where('id', '=', u.id).execute();
    // A new password ends every other session of that user.
    await trx.deleteFrom('sessions').where('user_id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.password', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `changed the password of ${u.username}` });
  });
}

/** Makes the first administrator when the store has no users; returns its one-time password. */
export async function bootstrapAdministrator(store: Store, actor: Actor): Promise<{ username: string; password: string } | null> {
  const any = await store.db.selectFrom('console_users').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const password = randomBytes(12).toString('base64url');
  await createUser(store, actor, { username: 'admin', password, role: 'administrator' });
  await store.db.updateTable('console_users').set({ must_change_password: 1 }).where('username', '=', 'admin').execute();
  return { username: 'admin', password };
}

// ---- sessions and login ----

export interface SessionPrincipal {
  sessionId: string;
  user: UserView;
  csrfToken: string;
  pendingTotp: boolean;
}

const sessionDigest = (token: string) => createHash('sha256').update(token).digest('hex');

export interface LoginPolicy {
  lockoutFailures: number;
  lockoutMinutes: number;
  sessionHours: number;
}

export type LoginResult = { token: string; session: SessionPrincipal };

async function openSession(db: Executor, u: ConsoleUserTable, clientIp: string, pendingTotp: boolean, policy: LoginPolicy): Promise<LoginResult> {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const now = Date.now();
  await db.insertInto('sessions').values({ id: sessionDigest(token), user_id: u.id, csrf_token: csrf, pending_totp: pendingTotp ? 1 : 0, client_ip: clientIp, created_at: now, expires_at: now + policy.sessionHours * 3_600_000 }).execute();
  return { token, session: { sessionId: sessionDigest(token), user: view(u, now), csrfToken: csrf, pendingTotp } };
}

/**
 * Password step of the login. Unknown users and wrong passwords answer the same way; every
 * failure counts toward a lock-out and lands in the operation log.
 */
export async function login(store: Store, input: { username: unknown; password: unknown; clientIp: string }, policy: LoginPolicy): Promise<LoginResult> {
  const username = typeof input.username === 'string' ? input.username.slice(0, 64) : '';
  const password = typeof input.password === 'string' ? input.password : '';
  const actor: Actor = { operator: username || '(empty)', clientIp: input.clientIp, role: 'system' };
  const now = Date.now();
  const u = await store.db.selectFrom('console_users').selectAll().where('username', '=', username).executeTakeFirst();
  if (u && (u.locked_until ?? 0) > now) {
    await store.transaction((trx) => recordOperation(trx, actor, { operation: 'user.login_locked', objectType: 'user', objectId: u.id, description: `login refused: ${username} is locked` }));
    throw new AppError('locked', 'this account is locked after repeated failed logins; try again later', { retryAfterSeconds: Math.ceil(((u.locked_until ?? now) - now) / 1000) });
  }
  const ok = u !== undefined && u.disabled === 0 && (await verifyPassword(u.password_hash, password));
  if (!u || !ok) {
    if (!u) await hashPassword(password || 'x'); // same cost whether or not the user exists
    await store.transaction(async (trx) => {
      if (u) {
        const failures = u.failed_logins + 1;
        const lock = failures >= policy.lockoutFailures ? now + policy.lockoutMinutes * 60_000 : null;
        await trx.updateTable('console_users').set({ failed_logins: lock ? 0 : failures, locked_until: lock }).where('id', '=', u.id).execute();
        if (lock) await recordOperation(trx, actor, { operation: 'user.locked', objectType: 'user', objectId: u.id, description: `${username} locked for ${policy.lockoutMinutes} minutes after ${failures} failed logins` });
      }
      await recordOperation(trx, actor, { operation: 'user.login_failed', objectType: 'user', objectId: u?.id ?? null, description: `failed login for ${username || '(empty)'}` });
    });
    throw new AppError('unauthorized', 'wrong user name or password');
  }
  // Counters reset, session opened and (without TOTP) the login logged together or not at all.
  return store.transaction(async (trx) => {
    await trx.updateTable('console_users').set({ failed_logins: 0, locked_until: null }).where('id', '=', u.id).execute();
    const result = await openSession(trx, u, input.clientIp, u.totp_enabled === 1, policy);
    if (u.totp_enabled !== 1) {
      await recordOperation(trx, { ...actor, userId: u.id, role: u.role as Role }, { operation: 'user.login', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `${username} logged in` });
    }
    return result;
  });
}

/** Second step for users with TOTP: the code turns the pending session into a full one. */
export async function completeTotpLogin(store: Store, sessionId: string, code: unknown, clientIp: string, policy: LoginPolicy): Promise<SessionPrincipal> {
  const s = await store.db.selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
  if (!s || s.pending_totp !== 1 || s.expires_at < Date.now()) throw new AppError('unauthorized', 'no login waiting for a TOTP code');
  const u = await userRow(store.db, s.user_id);
  const actor: Actor = { operator: u.username, clientIp, userId: u.id, role: u.role as Role };
  if (typeof code !== 'string' || !u.totp_secret || !verifySync({ secret: u.totp_secret, token: code, epochTolerance: 30 }).valid) {
    await store.transaction(async (trx) => {
      const failures = u.failed_logins + 1;
      const lock = failures >= policy.lockoutFailures ? Date.now() + policy.lockoutMinutes * 60_000 : null;
      await trx.updateTable('console_users').set({ failed_logins: lock ? 0 : failures, locked_until: lock }).where('id', '=', u.id).execute();
      if (lock) await trx.deleteFrom('sessions').where('id', '=', sessionId).execute();
      await recordOperation(trx, actor, { operation: 'user.totp_failed', objectType: 'user', objectId: u.id, description: `wrong TOTP code for ${u.username}` });
    });
    throw new AppError('unauthorized', 'wrong TOTP code');
  }
  await store.transaction(async (trx) => {
    await trx.updateTable('sessions').set({ pending_totp: 0 }).where('id', '=', sessionId).execute();
    await trx.updateTable('console_users').set({ failed_logins: 0 }).where('id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.login', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `${u.username} logged in with TOTP` });
  });
  return { sessionId, user: view(u), csrfToken: s.csrf_token, pendingTotp: false };
}

export async function sessionFromToken(db: Executor, token: string): Promise<SessionPrincipal | null> {
  const s = await db.selectFrom('sessions').selectAll().where('id', '=', sessionDigest(token)).executeTakeFirst();
  if (!s || s.expires_at < Date.now()) return null;
  const u = await db.selectFrom('console_users').selectAll().where('id', '=', s.user_id).executeTakeFirst();
  if (!u || u.disabled === 1) return null;
  return { sessionId: s.id, user: view(u), csrfToken: s.csrf_token, pendingTotp: s.pending_totp === 1 };
}

export async function logout(store: Store, actor: Actor, sessionId: string): Promise<void> {
  await store.transaction(async (trx) => {
    await trx.deleteFrom('sessions').where('id', '=', sessionId).execute();
    await recordOperation(trx, actor, { operation: 'user.logout', objectType: 'user', objectId: actor.userId ?? null, description: `${actor.operator} logged out` });
  });
}

// ---- TOTP enrolment ----

/** Starts enrolment: a new secret, not yet in force until confirmed with a code. */
export async function beginTotpEnrolment(store: Store, actor: Actor, userId: string): Promise<{ secret: string; otpauthUri: string }> {
  const u = await userRow(store.db, userId);
  const secret = generateSecret();
  await store.transaction(async (trx) => {
    await trx.updateTable('console_users').set({ totp_secret: secret, totp_enabled: 0, updated_at: Date.now() }).where('id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.totp_begin', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `started TOTP enrolment for ${u.username}` });
  });
  return { secret, otpauthUri: generateURI({ issuer: 'Fanout', label: u.username, secret }) };
}

export async function confirmTotpEnrolment(store: Store, actor: Actor, userId: string, code: unknown): Promise<void> {
  const u = await userRow(store.db, userId);
  if (!u.totp_secret) throw invalid('start TOTP enrolment first');
  if (typeof code !== 'string' || !verifySync({ secret: u.totp_secret, token: code, epochTolerance: 30 }).valid) throw invalid('the TOTP code is not valid', [{ field: 'code', message: 'not valid' }]);
  await store.transaction(async (trx) => {
    await trx.updateTable('console_users').set({ totp_enabled: 1, updated_at: Date.now() }).where('id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.totp_enable', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `enabled TOTP for ${u.username}` });
  });
}

export async function disableTotp(store: Store, actor: Actor, userId: string): Promise<void> {
  const u = await userRow(store.db, userId);
  await store.transaction(async (trx) => {
    await trx.updateTable('console_users').set({ totp_enabled: 0, totp_secret: null, updated_at: Date.now() }).where('id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.totp_disable', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `disabled TOTP for ${u.username}` });
  });
}
