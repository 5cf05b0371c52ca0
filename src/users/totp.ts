import { generateSecret, generateURI, verifySync } from 'otplib';
import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { AppError, invalid } from '../core/errors.ts';
import { verifyPassword } from '../core/passwords.ts';
import { seal, TOTP_PENDING_SECRET, TOTP_SECRET, unseal } from '../store/sealed-fields.ts';
import type { Executor, Store } from '../store/store.ts';
import { userRow } from './service.ts';
import type { ConsoleUserTable } from './tables.ts';

/** The time step a code is valid for, when it is one of the secret's codes now (±30 s). */
function matchingStep(secret: string, code: unknown): number | null {
  if (typeof code !== 'string' || !/^[0-9]{6}$/.test(code)) return null;
  const r = verifySync({ secret, token: code, epochTolerance: 30 });
  const step = (r as { timeStep?: number }).timeStep;
  return r.valid && typeof step === 'number' ? step : null;
}

/**
 * Accepts a code of the user's enrolled secret once: its time step must be later than the
 * last one accepted, and taking it is one conditional update in the store, so two requests
 * (on two nodes) racing with one code cannot both win. Without this, one code observed over a
 * shoulder or replayed within its 90-second window opened three sessions.
 * Returns 'ok', 'wrong' (not a current code) or 'replayed' (a code already used).
 */
export async function acceptTotpCode(store: Store, db: Executor, u: ConsoleUserTable, code: unknown): Promise<'ok' | 'wrong' | 'replayed'> {
  if (!u.totp_secret) return 'wrong';
  const step = matchingStep(unseal(store, TOTP_SECRET, u.id, u.totp_secret), code);
  if (step === null) return 'wrong';
  const res = await db.updateTable('console_users').set({ totp_last_step: step })
    .where('id', '=', u.id).where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)])).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1 ? 'ok' : 'replayed';
}

/** The signed-in user proves it is them again: password, and the current code when TOTP is on. */
async function reauthenticate(store: Store, u: ConsoleUserTable, proof: { password?: unknown; code?: unknown }): Promise<void> {
  const problems = [];
  if (typeof proof.password !== 'string' || !(await verifyPassword(u.password_hash, proof.password))) problems.push({ field: '/body/password', message: 'your current password is required and must be right' });
  if (u.totp_enabled === 1) {
    const verdict = problems.length ? 'wrong' : await acceptTotpCode(store, store.db, u, proof.code);
    if (verdict !== 'ok') problems.push({ field: '/body/code', message: verdict === 'replayed' ? 'this code was used already; wait for the next one' : 'a current code of your authenticator is required' });
  }
  if (problems.length) throw new AppError('validation', problems.map((p) => p.message).join('; '), { problems });
}

/**
 * Starts (or restarts) enrolment: a new secret, kept pending until confirmed with a code, so
 * two-factor sign-in stays on meanwhile. It needs the password, and, when TOTP is already on,
 * a current code: a stolen session alone cannot move the second factor to another phone.
 */
export async function beginTotpEnrolment(store: Store, actor: Actor, userId: string, proof: { password?: unknown; code?: unknown }): Promise<{ secret: string; otpauthUri: string }> {
  const u = await userRow(store.db, userId);
  await reauthenticate(store, u, proof);
  const secret = generateSecret();
  await store.transaction(async (trx) => {
    await trx.updateTable('console_users').set({ totp_pending_secret: seal(store, TOTP_PENDING_SECRET, u.id, secret), updated_at: Date.now() }).where('id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.totp_begin', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `started TOTP enrolment for ${u.username}` });
  });
  return { secret, otpauthUri: generateURI({ issuer: 'Fanout', label: u.username, secret }) };
}

/** The pending secret takes over once a code of it is given; that code cannot sign in again. */
export async function confirmTotpEnrolment(store: Store, actor: Actor, userId: string, code: unknown): Promise<void> {
  const u = await userRow(store.db, userId);
  if (!u.totp_pending_secret) throw invalid('start TOTP enrolment first', [{ field: '/body/code', message: 'no enrolment in progress' }]);
  const pending = unseal(store, TOTP_PENDING_SECRET, u.id, u.totp_pending_secret);
  const step = matchingStep(pending, code);
  if (step === null) throw invalid('the TOTP code is not valid', [{ field: '/body/code', message: 'not valid' }]);
  await store.transaction(async (trx) => {
    await trx.updateTable('console_users').set({
      totp_secret: seal(store, TOTP_SECRET, u.id, pending), totp_pending_secret: null, totp_enabled: 1, totp_last_step: step, updated_at: Date.now(),
    }).where('id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.totp_enable', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `enabled TOTP for ${u.username}` });
  });
}

/** A user switches their own TOTP off: password and a current code. */
export async function disableOwnTotp(store: Store, actor: Actor, userId: string, proof: { password?: unknown; code?: unknown }): Promise<void> {
  const u = await userRow(store.db, userId);
  if (u.totp_enabled !== 1) throw invalid('TOTP is not enabled', [{ field: '/body/code', message: 'TOTP is off' }]);
  await reauthenticate(store, u, proof);
  await disableTotp(store, actor, userId);
}

/** Switches TOTP off (an administrator's reset for a lost phone, or the user's own after reauthentication). */
export async function disableTotp(store: Store, actor: Actor, userId: string): Promise<void> {
  const u = await userRow(store.db, userId);
  await store.transaction(async (trx) => {
    await trx.updateTable('console_users').set({ totp_enabled: 0, totp_secret: null, totp_pending_secret: null, totp_last_step: null, updated_at: Date.now() }).where('id', '=', u.id).execute();
    await recordOperation(trx, actor, { operation: 'user.totp_disable', objectType: 'user', objectId: u.id, tenantId: u.tenant_id, description: `disabled TOTP for ${u.username}` });
  });
}
