import { sql } from 'kysely';
import { invalid } from '../../core/errors.ts';
import type { Executor } from '../../store/store.ts';

export const OUTCOMES = ['delivered', 'deferred', 'failed', 'expired', 'cancelled'] as const;

export interface DeliveryEvent {
  id: number;
  at: number;
  tenantId: string;
  accountId: string;
  messageId: string;
  recipientId: string;
  recipient: string;
  lane: string;
  attempt: number;
  sourceIp: string | null;
  mxHost: string | null;
  site: string | null;
  replyCode: number | null;
  enhancedStatus: string | null;
  text: string | null;
  outcome: string;
  reason: string | null;
}

export interface EventQuery {
  /** Confines the query to one tenant (operators, API keys); null/absent for administrators. */
  tenantId?: string | null;
  accountId?: string;
  recipient?: string;
  messageId?: string;
  outcome?: string;
  /** Failure reason class (userunknown, mailboxfull, ...). */
  reason?: string;
  /** The egress address of the attempt. */
  sourceIp?: string;
  /** The business system's address the message was submitted from. */
  clientIp?: string;
  /** The recipient's domain (lower-case). */
  recipientDomain?: string;
  /** Inclusive lower and exclusive upper bound, epoch ms. */
  from?: number;
  to?: number;
  /** Keyset pagination: the `nextCursor` of the previous page (newest first). */
  cursor?: number | null;
  limit?: number;
}

export interface EventPage {
  events: DeliveryEvent[];
  nextCursor: number | null;
}

/** The delivery log, newest first, paginated by event id. */
export async function queryDeliveryEvents(db: Executor, query: EventQuery = {}): Promise<EventPage> {
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid('limit must be 1 to 1000', [{ field: 'limit', message: '1..1000' }]);
  if (query.outcome !== undefined && !(OUTCOMES as readonly string[]).includes(query.outcome)) {
    throw invalid(`outcome must be one of ${OUTCOMES.join(', ')}`, [{ field: 'outcome', message: OUTCOMES.join(', ') }]);
  }
  let q = db.selectFrom('delivery_events').selectAll('delivery_events');
  if (query.clientIp) q = q.innerJoin('delivery_messages as m', 'm.id', 'delivery_events.message_id').where('m.client_ip', '=', query.clientIp);
  if (query.reason) q = q.where('reason', '=', query.reason);
  if (query.sourceIp) q = q.where('source_ip', '=', query.sourceIp);
  // The recipient column holds the whole address: its domain is the part after the last @.
  if (query.recipientDomain) {
    const tail = `@${query.recipientDomain}`;
    q = q.where(sql<string>`substr(recipient, length(recipient) - ${tail.length - 1})`, '=', tail);
  }
  if (query.tenantId) q = q.where('delivery_events.tenant_id', '=', query.tenantId);
  if (query.accountId) q = q.where('delivery_events.account_id', '=', query.accountId);
  if (query.recipient) q = q.where('recipient', '=', query.recipient);
  if (query.messageId) q = q.where('message_id', '=', query.messageId);
  if (query.outcome) q = q.where('outcome', '=', query.outcome);
  if (query.from !== undefined) q = q.where('at', '>=', query.from);
  if (query.to !== undefined) q = q.where('at', '<', query.to);
  if (query.cursor != null) q = q.where('delivery_events.id', '<', query.cursor);
  const rows = await q.orderBy('delivery_events.id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit).map((r): DeliveryEvent => ({
    id: r.id, at: r.at, tenantId: r.tenant_id, accountId: r.account_id, messageId: r.message_id, recipientId: r.recipient_id,
    recipient: r.recipient, lane: r.lane, attempt: r.attempt, sourceIp: r.source_ip, mxHost: r.mx_host, site: r.site,
    replyCode: r.reply_code, enhancedStatus: r.enhanced_status, text: r.text, outcome: r.outcome, reason: r.reason,
  }));
  return { events: page, nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
}

export interface RecipientStatus {
  id: string;
  messageId: string;
  recipient: string;
  lane: string;
  state: string;
  attempts: number;
  nextAttemptAt: number | null;
  site: string | null;
  lastReplyCode: number | null;
  lastText: string | null;
}

/** Every recipient of one message with its current state (message detail view). */
export async function messageRecipients(db: Executor, messageId: string, tenantId?: string | null): Promise<RecipientStatus[]> {
  let q = db.selectFrom('delivery_recipients').selectAll().where('message_id', '=', messageId);
  if (tenantId) q = q.where('tenant_id', '=', tenantId);
  return (await q.orderBy('recipient').execute()).map((r) => ({
    id: r.id, messageId: r.message_id, recipient: r.recipient, lane: r.lane, state: r.state, attempts: r.attempts,
    nextAttemptAt: r.state === 'queued' ? r.next_attempt_at : null, site: r.site, lastReplyCode: r.last_reply_code, lastText: r.last_text,
  }));
}

/** Queue depth and the oldest queued recipient per lane (health inspection, metrics). */
export async function queueDepth(db: Executor): Promise<{ lane: string; queued: number; oldestQueuedAt: number | null }[]> {
  const rows = await db.selectFrom('delivery_recipients')
    .select((eb) => ['lane', eb.fn.countAll<number>().as('queued'), eb.fn.min('first_queued_at').as('oldest')])
    .where('state', '=', 'queued').groupBy('lane').execute();
  return rows.map((r) => ({ lane: r.lane, queued: Number(r.queued), oldestQueuedAt: r.oldest == null ? null : Number(r.oldest) }));
}
