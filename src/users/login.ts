import { createHash, randomBytes } from 'node:crypto';
import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { AppError } from '../core/errors.ts';
import { hashPassword, verifyPassword } from '../core/passwords.ts';
import type { Executor, Store } from '../store/store.ts';
import type { Role, UserView } from './service.ts';
import { userRow, view } from './service.ts';
import type { ConsoleUserTable } from './tables.ts';
import { checkThrottle, clearFailures, recordFailure } from './throttle.ts';
import type { ThrottlePolicy } from './throttle.ts';
import { acceptTotpCode } from './totp.ts';

export interface SessionPrincipal {
  sessionId: string;
  user: UserView;
  csrfToken: string;
  pendingTotp: boolean;
}

const sessionDigest = (token: string) => createHash('sha256').update(token).digest('hex');

export interface LoginPolicy extends ThrottlePolicy {
  sessionHours: number;
}

export type LoginResult = { token: string; session: SessionPrincipal };

// A hash to verify unknown names against, made with the same parameters as real ones: an
// unknown name costs one argon2 verification, exactly like a known name with a wrong password.
let decoy: Promise<string> | null = null;
const decoyHash = () => (decoy ??= hashPassword(randomBytes(18).toString('base64')));

async function openSession(db: Executor, u: ConsoleUserTable, clientIp: string, pendingTotp: boolean, policy: LoginPolicy): Promise<LoginResult> {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const now = Date.now();
  await db.insertInto('sessions').values({ id: sessionDigest(token), user_id: u.id, csrf_token: csrf, pending_totp: pendingTotp ? 1 : 0, client_ip: clientIp, created_at: now, expires_at: now + policy.sessionHours * 3_600_000 }).execute();
  return { token, session: { sessionId: sessionDigest(token), user: view(u), csrfToken: csrf, pendingTotp } };
}

function blocked(verdict: { scope: 'user' | 'address'; retryAfterSeconds: number }): AppError {
  return verdict.scope === 'user'
    ? new AppError('locked', 'too many failed sign-ins for this user name from this address; try again later', { retryAfterSeconds: verdict.retryAfterSeconds })
    : new AppError('rate_limited', 'too many failed sign-ins from this address; try again later', { retryAfterSeconds: verdict.retryAfterSeconds });
}

/**
 * Password step of the sign-in. Unknown names, disabled users and wrong passwords take the
 * same path: one argon2 verification, one throttle count, one operation-log entry, the same
 * 401; locks fall on unknown names exactly as on real ones (throttle.ts).
 */
export async function login(store: Store, input: { username: unknown; password: unknown; clientIp: string }, policy: LoginPolicy): Promise<LoginResult> {
  const username = typeof input.username === 'string' ? input.username.slice(0, 64) : '';
  const password = typeof input.password === 'string' ? input.password : '';
  const actor: Actor = { operator: username || '(empty)', clientIp: input.clientIp, role: 'system' };
  const verdict = await checkThrottle(store.db, username, input.clientIp, policy);
  if (verdict.blocked) {
    await store.transaction((trx) => recordOperation(trx, actor, { operation: 'user.login_locked', objectType: 'user', objectId: null, description: `sign-in refused for ${username || '(empty)'}: ${verdict.scope === 'user' ? 'locked for this address' : 'too many failures from this address'}` }));
    throw blocked(verdict);
  }
  const u = await store.db.selectFrom('console_users').selectAll().where('username', '=', username).executeTakeFirst();
  const passwordOk = await verifyPassword(u?.password_hash ?? (await decoyHash()), password);
  if (!u || u.disabled === 1 || !passwordOk) {
    await store.transaction(async (trx) => {
      const lockedNow = await recordFailure(trx, username, input.clientIp, policy);
      if (lockedNow) await recordOperation(trx, actor, { operation: 'user.locked', objectType: 'user', objectId: u?.id ?? null, description: `${username || '(empty)'} locked for ${policy.lockMinutes} minutes from ${input.clientIp} after ${policy.failures} failed sign-ins` });
      await recordOperation(trx, actor, { operation: 'user.login_failed', objectType: 'user', objectId: u?.id ?? null, description: `failed sign-in for ${username || '(empty)'}` });
    });
    throw new AppError('unauthorized', 'wrong user name or password');
  }
  // Count cleared, session opened and (without TOTP) the sign-in logged together or not at all.
  return store.transaction(async (trx) => {
    await clearFailures(trx, username, input.clientIp);
    const result = await openSession(trx, u, input.clientIp, u.totp_enabled === 1, policy);
    if (u.totp_enabled !== 1) {
      await recordOperation(trx, { ...actor, userId: u.id, role: u.role as Role }, { operation: 'user.login', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `${username} logged in` });
    }
    return result;
  });
}

/**
 * Second step for users with TOTP: a current code, not used before, turns the pending session
 * into a full one. Wrong and replayed codes count toward the same lock as wrong passwords.
 */
export async function completeTotpLogin(store: Store, sessionId: string, code: unknown, clientIp: string, policy: LoginPolicy): Promise<SessionPrincipal> {
  const s = await store.db.selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
  if (!s || s.pending_totp !== 1 || s.expires_at < Date.now()) throw new AppError('unauthorized', 'no login waiting for a TOTP code');
  const u = await userRow(store.db, s.user_id);
  const actor: Actor = { operator: u.username, clientIp, userId: u.id, role: u.role as Role };
  const verdict = await checkThrottle(store.db, u.username, clientIp, policy);
  if (verdict.blocked) {
    await store.db.deleteFrom('sessions').where('id', '=', sessionId).execute();
    throw blocked(verdict);
  }
  const outcome = await acceptTotpCode(store, store.db, u, code);
  if (outcome !== 'ok') {
    await store.transaction(async (trx) => {
      const lockedNow = await recordFailure(trx, u.username, clientIp, policy);
      if (lockedNow) await trx.deleteFrom('sessions').where('id', '=', sessionId).execute();
      await recordOperation(trx, actor, { operation: 'user.totp_failed', objectType: 'user', objectId: u.id, description: `${outcome === 'replayed' ? 'replayed' : 'wrong'} TOTP code for ${u.username}` });
    });
    throw new AppError('unauthorized', outcome === 'replayed' ? 'this TOTP code was used already; wait for the next one' : 'wrong TOTP code');
  }
  await store.transaction(async (trx) => {
    await trx.updateTable('sessions').set({ pending_totp: 0 }).where('id', '=', sessionId).execute();
    await clearFailures(trx, u.username, clientIp);
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
