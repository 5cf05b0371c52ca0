import type { Actor } from '../audit/index.ts';
import type { Store } from '../store/store.ts';
import { signToken, verifyToken } from '../core/signed-tokens.ts';
import { confirmSubscription } from './subscribers.ts';

/** What a confirmation link names: tenant, list and subscriber, and until when it works. */
interface ConfirmRef {
  t: string;
  l: string;
  s: number;
  exp: number;
}

export const CONFIRM_TTL_MS = 7 * 24 * 3600 * 1000;

/** The double opt-in link to mail to a new, unconfirmed subscriber (valid seven days). */
export function confirmationUrl(publicUrl: string, secret: Buffer, ref: { tenantId: string; listId: string; subscriberId: number }, now = Date.now()): string {
  const token = signToken(secret, 'confirm', { t: ref.tenantId, l: ref.listId, s: ref.subscriberId, exp: now + CONFIRM_TTL_MS } satisfies ConfirmRef);
  return `${publicUrl.replace(/\/+$/, '')}/s/confirm/${token}`;
}

export type ConfirmOutcome =
  | { outcome: 'confirmed' | 'unchanged'; email: string; listName: string; status: string }
  | { outcome: 'invalid' };

/**
 * The click in the confirmation mail: one click confirms, as the recipient expects. A forged,
 * altered or expired link confirms nothing; a link for a subscription that has since been
 * unsubscribed leaves it unsubscribed.
 */
export async function confirmByToken(store: Store, secret: Buffer, token: string, clientIp: string): Promise<ConfirmOutcome> {
  const ref = verifyToken<ConfirmRef>(secret, 'confirm', token);
  if (!ref || typeof ref.t !== 'string' || typeof ref.l !== 'string' || typeof ref.s !== 'number') return { outcome: 'invalid' };
  const row = await store.db.selectFrom('list_members as m').innerJoin('subscribers as s', 's.id', 'm.subscriber_id').innerJoin('subscriber_lists as l', 'l.id', 'm.list_id')
    .select(['s.email', 'l.name', 'm.status']).where('m.list_id', '=', ref.l).where('m.subscriber_id', '=', ref.s).where('m.tenant_id', '=', ref.t).executeTakeFirst();
  if (!row) return { outcome: 'invalid' };
  const actor: Actor = { operator: `recipient:${row.email}`, clientIp, role: 'system', tenantId: ref.t };
  const status = await confirmSubscription(store, actor, { tenantId: ref.t, listId: ref.l, subscriberId: ref.s });
  return { outcome: row.status === 'unconfirmed' && status === 'subscribed' ? 'confirmed' : 'unchanged', email: row.email, listName: row.name, status };
}
