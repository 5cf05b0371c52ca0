import { randomBytes } from 'node:crypto';
import type { Actor } from '../audit/log.ts';
import { recordOperation } from '../audit/log.ts';
import { conflict, invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { hashPassword } from '../core/passwords.ts';
import { requireName, requirePassword } from '../core/validate.ts';
import { containsText } from '../store/contains.ts';
import type { Executor, Store } from '../store/store.ts';
import type { ConsoleUserTable } from './tables.ts';
import { lockedUsernames, unlockUsername } from './throttle.ts';

export const ROLES = ['administrator', 'operator', 'auditor', 'support'] as const;
export type Role = (typeof ROLES)[number];

export interface UserView {
  id: string;
  username: string;
  role: Role;
  tenantId: string | null;
  totpEnabled: boolean;
  /** Locked from at least one client address after repeated failed sign-ins. */
  locked: boolean;
  disabled: boolean;
  /** True until the user sets their own password (the first administrator's one-time password). */
  mustChangePassword: boolean;
  locale: string;
  createdAt: string;
}

export const view = (u: ConsoleUserTable, locked = false): UserView => ({
  id: u.id, username: u.username, role: u.role as Role, tenantId: u.tenant_id, totpEnabled: u.totp_enabled === 1,
  locked, disabled: u.disabled === 1, mustChangePassword: u.must_change_password === 1, locale: u.locale, createdAt: new Date(u.created_at).toISOString(),
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
      id: newId('us', now), username, password_hash: hash, role, tenant_id: tenantId, totp_secret: null, totp_enabled: 0, totp_last_step: null, totp_pending_secret: null, failed_logins: 0,
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
  const rows = await q.execute();
  const locked = await lockedUsernames(db, rows.map((u) => u.username));
  return rows.map((u) => view(u, locked.has(u.username)));
}

/** A page of users by user name (keyset on the unique name); nextCursor is null on the last page. */
export async function listUsersPage(db: Executor, f: { tenantId?: string | null; q?: string; role?: string; limit?: number; cursor?: string }): Promise<{ items: UserView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
  let q = db.selectFrom('console_users').selectAll().orderBy('username');
  if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
  if (f.q) q = q.where(containsText('username', f.q));
  if (f.role) q = q.where('role', '=', f.role);
  if (f.cursor) q = q.where('username', '>', f.cursor);
  const rows = await q.limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const locked = await lockedUsernames(db, page.map((u) => u.username));
  return { items: page.map((u) => view(u, locked.has(u.username))), nextCursor: rows.length > limit ? page[page.length - 1]!.username : null };
}

export async function userRow(db: Executor, idOrName: string): Promise<ConsoleUserTable> {
  const u = await db.selectFrom('console_users').selectAll().where((eb) => eb.or([eb('id', '=', idOrName), eb('username', '=', idOrName)])).executeTakeFirst();
  if (!u) throw notFound('user');
  return u;
}

export async function getUser(db: Executor, idOrName: string): Promise<UserView> {
  const u = await userRow(db, idOrName);
  return view(u, (await lockedUsernames(db, [u.username])).has(u.username));
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
    if (patch.unlock === true) await unlockUsername(trx, u.username);
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
    await trx.updateTable('console_users').set({ password_hash: hash, must_change_password: 0, updated_at: Date.now() }).where('id', '=', u.id).execute();
    await unlockUsername(trx, u.username);
    // A new password ends every session of that user.
    await trx.deleteFrom('sessions').where('user_id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.password', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `changed the password of ${u.username}` });
  });
}

/**
 * Makes the first administrator when the store has no users; returns its one-time password.
 * Until it is changed, a session of that user can do nothing but change it (http/auth.ts).
 */
export async function bootstrapAdministrator(store: Store, actor: Actor): Promise<{ username: string; password: string } | null> {
  const any = await store.db.selectFrom('console_users').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const password = randomBytes(12).toString('base64url');
  await createUser(store, actor, { username: 'admin', password, role: 'administrator' });
  await store.db.updateTable('console_users').set({ must_change_password: 1 }).where('username', '=', 'admin').execute();
  return { username: 'admin', password };
}
