/**
 * Bounce and complaint events, and what they do to the suppression list: a hard bounce or a
 * complaint suppresses at once; soft bounces count, and enough of them within the window
 * (configurable, e.g. 3 within 7 days) suppress too.
 */
import type { Executor } from '../store/store.ts';
import { addToRollups, messageOrigins } from '../analytics/index.ts';
import { emitWebhookEvents } from '../webhooks/index.ts';
import { headlineReason } from './headline.ts';
import { suppress } from './suppressions.ts';
import type { SuppressionReason } from './suppressions.ts';

export interface SoftBouncePolicy {
  threshold: number;
  windowDays: number;
}

export const DEFAULT_SOFT_POLICY: SoftBouncePolicy = { threshold: 3, windowDays: 7 };

export interface BounceEventInput {
  at?: number;
  inboundId: string | null;
  tenantId: string | null;
  messageId: string | null;
  recipientId: string | null;
  recipient: string;
  kind: 'bounce' | 'complaint' | 'autoreply' | 'delivery';
  reason: string;
  hard: boolean;
  status: string;
  replyCode: string;
  diagnostic: string;
  linkedBy: 'verp' | 'message-id' | 'headers' | 'none';
}

/** Soft results that say nothing about the address's future: they never count toward the threshold. */
const NOT_COUNTED = new Set(['vacation', 'feedback', 'delivered', 'undefined']);

export async function recordBounceEvent(trx: Executor, ev: BounceEventInput, policy: SoftBouncePolicy = DEFAULT_SOFT_POLICY): Promise<{ eventId: number; suppressed: SuppressionReason | null }> {
  const at = ev.at ?? Date.now();
  const recipient = ev.recipient.trim().toLowerCase();
  const inserted = await trx.insertInto('bounce_events').values({
    at, inbound_id: ev.inboundId, tenant_id: ev.tenantId, message_id: ev.messageId, recipient_id: ev.recipientId, recipient,
    kind: ev.kind, reason: ev.reason, headline: headlineReason(ev.reason), hard: ev.hard ? 1 : 0, status: ev.status,
    reply_code: ev.replyCode, diagnostic: ev.diagnostic.slice(0, 2000), linked_by: ev.linkedBy,
  }).returning('id').executeTakeFirstOrThrow();
  const eventId = Number(inserted.id);
  await countBounce(trx, ev, at, recipient);
  // Only an event tied to a message Fanout sent to this recipient for this tenant may change the
  // list: an unlinked report is anyone's word, kept for people to read (see inbound.ts).
  if (!ev.tenantId || ev.linkedBy === 'none' || !recipient.includes('@')) return { eventId, suppressed: null };

  let reason: SuppressionReason | null = null;
  if (ev.kind === 'complaint') reason = 'complaint';
  else if (ev.kind === 'bounce' && ev.hard) reason = 'hard_bounce';
  else if (ev.kind === 'bounce' && !NOT_COUNTED.has(ev.reason)) {
    const since = at - policy.windowDays * 86_400_000;
    const row = await trx.selectFrom('bounce_events').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', ev.tenantId).where('recipient', '=', recipient).where('kind', '=', 'bounce').where('hard', '=', 0).where('linked_by', '!=', 'none')
      .where('reason', 'not in', [...NOT_COUNTED]).where('at', '>=', since).where('at', '<=', at).executeTakeFirst();
    if (Number(row?.n ?? 0) >= policy.threshold) reason = 'soft_bounce_threshold';
  }
  if (!reason) return { eventId, suppressed: null };
  let added: boolean;
  try {
    added = await suppress(trx, {
      tenantId: ev.tenantId, address: recipient, reason, bounceReason: ev.reason, source: ev.kind === 'complaint' ? 'complaint' : 'bounce', now: at,
      evidence: { eventId, inboundId: ev.inboundId, messageId: ev.messageId, recipientId: ev.recipientId, status: ev.status, replyCode: ev.replyCode, reason: ev.reason, diagnostic: ev.diagnostic.slice(0, 500) },
    });
  } catch {
    // An address the list cannot hold (malformed) is kept as an event only.
    return { eventId, suppressed: null };
  }
  return { eventId, suppressed: added ? reason : null };
}

/**
 * A bounce or complaint linked to a message Fanout sent moves the statistics in the same
 * transaction, counted against the message's account, client and the address it left from.
 */
async function countBounce(trx: Executor, ev: BounceEventInput, at: number, recipient: string): Promise<void> {
  if ((ev.kind !== 'bounce' && ev.kind !== 'complaint') || !ev.messageId || !ev.tenantId || ev.linkedBy === 'none') return;
  const message = await trx.selectFrom('delivery_messages').select(['account_id', 'tenant_id']).where('id', '=', ev.messageId).executeTakeFirst();
  if (!message || message.tenant_id !== ev.tenantId) return;
  const origin = (await messageOrigins(trx, [ev.messageId])).get(ev.messageId);
  let sent = trx.selectFrom('delivery_events').select('source_ip').where('message_id', '=', ev.messageId).where('outcome', '=', 'delivered');
  if (ev.recipientId) sent = sent.where('recipient_id', '=', ev.recipientId);
  const attempt = await sent.orderBy('id', 'desc').limit(1).executeTakeFirst();
  await addToRollups(trx, [{
    at, tenantId: ev.tenantId, accountId: message.account_id, clientIp: origin?.clientIp, sourceIp: attempt?.source_ip ?? null, senderDomain: origin?.senderDomain ?? '',
    recipientDomain: recipient.slice(recipient.lastIndexOf('@') + 1), outcome: ev.kind === 'bounce' ? 'bounced' : 'complained', reason: ev.reason,
  }]);
  await emitWebhookEvents(trx, [{
    tenantId: ev.tenantId, at, type: ev.kind === 'bounce' ? 'message.bounced' : 'message.complained',
    data: { messageId: ev.messageId, recipientId: ev.recipientId, recipient, accountId: message.account_id, reason: ev.reason, hard: ev.hard, status: ev.status, replyCode: ev.replyCode, diagnostic: ev.diagnostic.slice(0, 500) },
  }]);
}
