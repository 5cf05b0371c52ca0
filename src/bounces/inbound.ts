/**
 * What the bounce listener does with mail, apart from SMTP: decides which recipients it takes
 * (VERP addresses and complaint mailboxes of domains Fanout serves, nothing else: it is not a
 * relay), stores each raw message, classifies it, ties every failed recipient to what was sent
 * (VERP first, then the original's Message-ID and headers) and records the events that feed
 * the suppression list.
 */
import { newId } from '../core/ids.ts';
import type { Store, Tx } from '../store/store.ts';
import { classifyMessage } from './classify.ts';
import { recordBounceEvent } from './events.ts';
import type { BounceEventInput, SoftBouncePolicy } from './events.ts';
import type { BounceReport, ClassifiedRecipient } from './types.ts';
import { decodeVerp, looksLikeVerp } from './verp.ts';
import { applyUnsubscribe } from '../tracking/unsubscribe.ts';
import { UNSUBSCRIBE_MAILBOX, unsubscribeRefFromMail } from './unsubscribe-mail.ts';
import type { VerpRef } from './verp.ts';
import { inboundMailboxFor } from './mailboxes.ts';
import type { InboundMailbox } from './mailboxes.ts';

/** Local parts that receive complaints and abuse reports on every domain Fanout serves. */
export const COMPLAINT_MAILBOXES = new Set(['abuse', 'postmaster', 'fbl', 'feedback', 'complaints', 'arf']);

export type RecipientDecision =
  | { ok: true; tenantId: string; kind: 'verp'; ref: VerpRef }
  | { ok: true; tenantId: string; kind: 'complaint-mailbox' }
  | { ok: true; tenantId: string; kind: 'unsubscribe' }
  | { ok: true; tenantId: string; kind: 'mailbox'; mailbox: InboundMailbox }
  | { ok: false; why: 'foreign-domain' | 'unknown-mailbox' | 'forged-verp' | 'malformed' };

/** The tenant whose sending or return-path domain `domain` is, or null. */
async function tenantOfDomain(store: Store, domain: string): Promise<string | null> {
  const row = await store.db.selectFrom('sending_domains').select('tenant_id')
    .where((eb) => eb.or([eb('return_path_domain', '=', domain), eb('domain', '=', domain)])).executeTakeFirst();
  return row?.tenant_id ?? null;
}

export async function decideRecipient(store: Store, secret: Buffer, address: string): Promise<RecipientDecision> {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf('@');
  if (at < 1 || at === a.length - 1) return { ok: false, why: 'malformed' };
  const local = a.slice(0, at);
  const domain = a.slice(at + 1).replace(/\.$/, '');
  const tenantId = await tenantOfDomain(store, domain);
  if (!tenantId) return { ok: false, why: 'foreign-domain' };
  if (COMPLAINT_MAILBOXES.has(local)) return { ok: true, tenantId, kind: 'complaint-mailbox' };
  if (local === UNSUBSCRIBE_MAILBOX) return { ok: true, tenantId, kind: 'unsubscribe' };
  const mailbox = inboundMailboxFor(local);
  if (mailbox) return { ok: true, tenantId, kind: 'mailbox', mailbox };
  if (!looksLikeVerp(a)) return { ok: false, why: 'unknown-mailbox' };
  const ref = decodeVerp(a, secret);
  if (!ref) return { ok: false, why: 'forged-verp' };
  return { ok: true, tenantId, kind: 'verp', ref };
}

export interface InboundInput {
  raw: Buffer;
  mailFrom: string;
  rcptTo: string[];
  remoteIp: string;
  now?: number;
}

export interface InboundResult {
  inboundId: string;
  parseStatus: 'classified' | 'unrecognised' | 'unparseable';
  kind: BounceReport['kind'];
  events: { recipient: string; reason: string; hard: boolean; linkedBy: string; suppressed: string | null; messageId: string | null; recipientId: string | null }[];
  /** Set when the mail was a mailto unsubscribe carrying a valid signed token. */
  unsubscribed?: string;
}

interface Link {
  tenantId: string | null;
  messageId: string | null;
  recipientId: string | null;
  by: BounceEventInput['linkedBy'];
}

/** The delivery row for a VERP reference, if the delivery tables know it. */
async function rowForRef(trx: Tx, ref: VerpRef): Promise<{ tenantId: string; recipient: string } | null> {
  const row = await trx.selectFrom('delivery_recipients').select(['tenant_id', 'recipient', 'message_id']).where('id', '=', ref.recipientId).executeTakeFirst();
  if (!row || row.message_id !== ref.messageId) return null;
  return { tenantId: row.tenant_id, recipient: row.recipient.toLowerCase() };
}

async function linkRecipient(trx: Tx, r: ClassifiedRecipient, report: BounceReport, verpRefs: VerpRef[], secret: Buffer, fallbackTenant: string | null, onlyOne: boolean): Promise<Link> {
  // 1. VERP: the envelope recipient the bounce came back to names the message and recipient.
  for (const ref of verpRefs) {
    const row = await rowForRef(trx, ref);
    if (row && (row.recipient === r.recipient || onlyOne)) return { tenantId: row.tenantId, messageId: ref.messageId, recipientId: ref.recipientId, by: 'verp' };
  }
  const original = report.original;
  // 2. The returned original's Return-Path is our VERP address when the bounce went elsewhere (ARF reports do).
  for (const rp of original?.headers.get('return-path') ?? []) {
    const ref = decodeVerp(rp.replace(/^<|>$/g, ''), secret);
    const row = ref ? await rowForRef(trx, ref) : null;
    if (ref && row) return { tenantId: row.tenantId, messageId: ref.messageId, recipientId: ref.recipientId, by: 'headers' };
  }
  // 3. The original's Message-ID, then the recipient within that message.
  if (original?.messageId) {
    const msg = await trx.selectFrom('delivery_messages').select(['id', 'tenant_id']).where('header_message_id', '=', original.messageId).executeTakeFirst();
    if (msg) {
      const rcpt = await trx.selectFrom('delivery_recipients').select('id').where('message_id', '=', msg.id).where('recipient', '=', r.recipient).executeTakeFirst();
      return { tenantId: msg.tenant_id, messageId: msg.id, recipientId: rcpt?.id ?? null, by: 'message-id' };
    }
  }
  // Unlinked, but the domain the bounce came to still names the tenant whose list it concerns.
  return { tenantId: fallbackTenant, messageId: null, recipientId: null, by: 'none' };
}

function summarise(report: BounceReport, status: InboundResult['parseStatus']): string {
  if (status === 'unparseable') return 'unparseable: the MIME structure is broken and no recipient could be read';
  if (status === 'unrecognised') return 'no bounce, complaint or auto-reply recipient found';
  return `${report.kind}: ${report.recipients.map((r) => `${r.recipient} ${r.reason}`).join(', ')}`.slice(0, 1000);
}

/**
 * Stores and processes one accepted message. Classification never throws; a store failure
 * does (the listener answers 451 so the sender retries).
 */
export async function processInbound(store: Store, secret: Buffer, input: InboundInput, policy: SoftBouncePolicy): Promise<InboundResult> {
  const now = input.now ?? Date.now();
  const report = classifyMessage(input.raw);
  const parseStatus: InboundResult['parseStatus'] = report.recipients.length > 0 ? 'classified' : report.damaged ? 'unparseable' : 'unrecognised';
  const decisions = await Promise.all(input.rcptTo.map((a) => decideRecipient(store, secret, a)));
  const verpRefs = decisions.flatMap((d) => (d.ok && d.kind === 'verp' ? [d.ref] : []));
  const accepted = decisions.find((d): d is Extract<RecipientDecision, { ok: true }> => d.ok);
  const fallbackTenant = accepted?.tenantId ?? null;
  const inboundId = newId('in', now);
  const events: InboundResult['events'] = [];
  await store.transaction(async (trx) => {
    await trx.insertInto('inbound_messages').values({
      id: inboundId, received_at: now, remote_ip: input.remoteIp, mail_from: input.mailFrom, rcpt_to: JSON.stringify(input.rcptTo),
      size: input.raw.length, raw: input.raw, parse_status: parseStatus, kind: report.kind, tenant_id: fallbackTenant, summary: summarise(report, parseStatus),
    }).execute();
    if (report.kind === 'unrecognised') return;
    const kind = report.kind;
    for (const r of report.recipients) {
      const link = await linkRecipient(trx, r, report, verpRefs, secret, fallbackTenant, report.recipients.length === 1);
      const { suppressed } = await recordBounceEvent(trx, {
        at: now, inboundId, tenantId: link.tenantId, messageId: link.messageId, recipientId: link.recipientId, recipient: r.recipient,
        kind, reason: r.reason, hard: r.hardBounce, status: r.status, replyCode: r.replyCode, diagnostic: r.diagnostic, linkedBy: link.by,
      }, policy);
      events.push({ recipient: r.recipient, reason: r.reason, hard: r.hardBounce, linkedBy: link.by, suppressed, messageId: link.messageId, recipientId: link.recipientId });
    }
  });
  const result: InboundResult = { inboundId, parseStatus, kind: report.kind, events };
  for (const [i, d] of decisions.entries()) {
    if (d.ok && d.kind === 'mailbox') await d.mailbox.deliver({ raw: input.raw, mailFrom: input.mailFrom, rcptTo: input.rcptTo[i]!, remoteIp: input.remoteIp });
    if (!d.ok || d.kind !== 'unsubscribe') continue;
    const ref = unsubscribeRefFromMail(input.raw, secret, d.tenantId);
    if (ref) {
      await applyUnsubscribe(store, ref, 'mailto', input.remoteIp);
      result.unsubscribed = ref.e;
    }
  }
  return result;
}
