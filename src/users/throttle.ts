import { sql } from 'kysely';
import type { Executor, Tx } from '../store/store.ts';

/**
 * Failed sign-ins, counted in the store (so every node of a cluster counts alike) under two
 * keys: the pair (user name, client address) and the client address alone.
 *
 * - A pair that fails `failures` times within the window is locked for `lockMinutes`. The
 *   pair, not the user: someone guessing from another address cannot lock the administrator
 *   out of their own desk, which a per-user lock would let anyone do for free.
 * - An address that fails `ipFailures` times within the window, whatever names it tries, must
 *   wait until the window has passed: guessing across many names from one place is slowed.
 * - Names that do not exist are counted and locked exactly like real ones, so the answers
 *   never tell a real user name from an unknown one.
 */
export interface ThrottlePolicy {
  failures: number;
  lockMinutes: number;
  ipFailures: number;
}

const pairKey = (username: string, ip: string) => `u:${username.toLowerCase()}|${ip}`;
const ipKey = (ip: string) => `ip:${ip}`;

export type ThrottleVerdict = { blocked: false } | { blocked: true; scope: 'user' | 'address'; retryAfterSeconds: number };

/** Whether a sign-in of `username` from `ip` may be tried now. */
export async function checkThrottle(db: Executor, username: string, ip: string, policy: ThrottlePolicy, now = Date.now()): Promise<ThrottleVerdict> {
  const rows = await db.selectFrom('login_throttle').selectAll().where('key', 'in', [pairKey(username, ip), ipKey(ip)]).execute();
  const windowMs = policy.lockMinutes * 60_000;
  for (const r of rows) {
    if (r.key.startsWith('u:') && r.locked_until !== null && r.locked_until > now) {
      return { blocked: true, scope: 'user', retryAfterSeconds: Math.ceil((r.locked_until - now) / 1000) };
    }
    if (r.key.startsWith('ip:') && r.failures >= policy.ipFailures && r.window_started_at + windowMs > now) {
      return { blocked: true, scope: 'address', retryAfterSeconds: Math.ceil((r.window_started_at + windowMs - now) / 1000) };
    }
  }
  return { blocked: false };
}

async function bump(trx: Tx, key: string, windowMs: number, now: number): Promise<{ failures: number }> {
  const windowStart = now - windowMs;
  await trx.insertInto('login_throttle').values({ key, failures: 1, window_started_at: now, locked_until: null, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({
      failures: sql`case when login_throttle.window_started_at < ${windowStart} then 1 else login_throttle.failures + 1 end`,
      window_started_at: sql`case when login_throttle.window_started_at < ${windowStart} then ${now} else login_throttle.window_started_at end`,
      updated_at: now,
    })).execute();
  const row = await trx.selectFrom('login_throttle').select('failures').where('key', '=', key).executeTakeFirstOrThrow();
  return { failures: Number(row.failures) };
}

// Every so many failures, counts whose window and lock are over are deleted, so names sprayed
// from many addresses do not pile up rows.
const PRUNE_EVERY = 200;
let failuresSincePrune = 0;

/**
 * Counts one failure of `username` from `ip`; returns true when it locked the pair now.
 * Runs in the caller's transaction, with the failure's operation-log entry.
 */
export async function recordFailure(trx: Tx, username: string, ip: string, policy: ThrottlePolicy, now = Date.now()): Promise<boolean> {
  const windowMs = policy.lockMinutes * 60_000;
  if (++failuresSincePrune >= PRUNE_EVERY) {
    failuresSincePrune = 0;
    await trx.deleteFrom('login_throttle').where('window_started_at', '<', now - windowMs)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)])).execute();
  }
  await bump(trx, ipKey(ip), windowMs, now);
  const { failures } = await bump(trx, pairKey(username, ip), windowMs, now);
  if (failures < policy.failures) return false;
  await trx.updateTable('login_throttle').set({ failures: 0, window_started_at: now, locked_until: now + windowMs, updated_at: now }).where('key', '=', pairKey(username, ip)).execute();
  return true;
}

/** A successful sign-in clears its pair's count (the address's count runs out with its window). */
export async function clearFailures(trx: Tx, username: string, ip: string): Promise<void> {
  await trx.deleteFrom('login_throttle').where('key', '=', pairKey(username, ip)).execute();
}

/** An administrator's unlock: every address's lock and count for this user name. */
export async function unlockUsername(trx: Tx, username: string): Promise<void> {
  const prefix = `u:${username.toLowerCase()}|`;
  await trx.deleteFrom('login_throttle').where(sql<boolean>`substr(key, 1, ${prefix.length}) = ${prefix}`).execute();
}

/** The user names among `usernames` that are locked from some address now. */
export async function lockedUsernames(db: Executor, usernames: string[], now = Date.now()): Promise<Set<string>> {
  const out = new Set<string>();
  if (!usernames.length) return out;
  const rows = await db.selectFrom('login_throttle').select('key').where('locked_until', '>', now).execute();
  const wanted = new Map(usernames.map((u) => [u.toLowerCase(), u]));
  for (const r of rows) {
    if (!r.key.startsWith('u:')) continue;
    const name = wanted.get(r.key.slice(2, r.key.lastIndexOf('|')));
    if (name) out.add(name);
  }
  return out;
}
