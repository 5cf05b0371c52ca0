import { notFound } from '../core/errors.ts';
import type { Executor } from '../store/store.ts';

/** One step in a message's life, whichever capability recorded it. */
export interface TimelineEntry {
  at: string;
  /** submitted | delivered | deferred | failed | expired | cancelled | bounce | complaint | autoreply | open | click | unsubscribe */
  kind: string;
  recipient: string | null;
  /** Attempt number for delivery attempts. */
  attempt?: number;
  sourceIp?: string | null;
  mxHost?: string | null;
  replyCode?: number | string | null;
  enhancedStatus?: string | null;
  text?: string | null;
  reason?: string | null;
  url?: string | null;
}

export interface MessageTimeline {
  id: string;
  tenantId: string;
  accountId: string;
  lane: string;
  mailFrom: string;
  headerMessageId: string | null;
  source: string;
  clientIp: string | null;
  size: number;
  recipientCount: number;
  submittedAt: string;
  items: TimelineEntry[];
}

const iso = (t: number) => new Date(Number(t)).toISOString();

/**
 * One message's whole story, oldest first: its submission, every delivery attempt with the
 * remote server's reply, bounces and complaints that came back, and what recipients did with
 * it (opens, clicks, unsubscribes). Another tenant's message is "not found", like a missing one.
 */
export async function messageTimeline(db: Executor, messageId: string, scope: { tenantId?: string | null; accountId?: string | null }): Promise<MessageTimeline> {
  const m = await db.selectFrom('delivery_messages').select(['id', 'tenant_id', 'account_id', 'lane', 'mail_from', 'header_message_id', 'source', 'client_ip', 'size', 'recipient_count', 'created_at'])
    .where('id', '=', messageId).executeTakeFirst();
  if (!m || (scope.tenantId && m.tenant_id !== scope.tenantId) || (scope.accountId && m.account_id !== scope.accountId)) throw notFound('message');
  const recipients = await db.selectFrom('delivery_recipients').select('recipient').where('message_id', '=', m.id).execute();
  const items: (TimelineEntry & { t: number; order: number })[] = recipients.map((r) => ({ t: Number(m.created_at), order: 0, at: iso(m.created_at), kind: 'submitted', recipient: r.recipient }));
  const attempts = await db.selectFrom('delivery_events').selectAll().where('message_id', '=', m.id).orderBy('id').execute();
  for (const e of attempts) {
    items.push({
      t: Number(e.at), order: 1, at: iso(e.at), kind: e.outcome, recipient: e.recipient, attempt: e.attempt, sourceIp: e.source_ip, mxHost: e.mx_host,
      replyCode: e.reply_code, enhancedStatus: e.enhanced_status, text: e.text, reason: e.reason,
    });
  }
  const bounces = await db.selectFrom('bounce_events').select(['at', 'kind', 'recipient', 'reason', 'status', 'reply_code', 'diagnostic']).where('message_id', '=', m.id).orderBy('id').execute();
  for (const b of bounces) {
    items.push({ t: Number(b.at), order: 2, at: iso(b.at), kind: b.kind, recipient: b.recipient, reason: b.reason, enhancedStatus: b.status, replyCode: b.reply_code, text: b.diagnostic });
  }
  // Tracking links carry the Message-ID header of the message (or its id), with the recipient.
  const refs = [m.id, ...(m.header_message_id ? [m.header_message_id] : [])];
  const tracked = await db.selectFrom('tracking_events').select(['at', 'kind', 'email', 'url']).where('tenant_id', '=', m.tenant_id).where('message_id', 'in', refs).orderBy('id').execute();
  const addresses = new Set(recipients.map((r) => r.recipient.toLowerCase()));
  for (const e of tracked) {
    if (!addresses.has(e.email.toLowerCase())) continue;
    items.push({ t: Number(e.at), order: 3, at: iso(e.at), kind: e.kind, recipient: e.email, url: e.url });
  }
  items.sort((a, b) => a.t - b.t || a.order - b.order);
  return {
    id: m.id, tenantId: m.tenant_id, accountId: m.account_id, lane: m.lane, mailFrom: m.mail_from, headerMessageId: m.header_message_id, source: m.source,
    clientIp: m.client_ip, size: Number(m.size), recipientCount: Number(m.recipient_count), submittedAt: iso(m.created_at),
    items: items.map(({ t: _t, order: _o, ...rest }) => rest),
  };
}
