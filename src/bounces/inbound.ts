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
import { sentMessageByHeaderId, sentRecipient, sentRecipientOf } from '../delivery/index.ts';
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

/**
 * How one reported recipient was tied to what Fanout sent. Only a verified link lets inbound
 * mail change a suppression list: the bounce (or complaint) must name a message Fanout really
 * sent, to that recipient, for the tenant whose mailbox received it. Anything else is recorded
 * for people to read and acted on by nobody, so a forged report cannot suppress anyone.
 */
interface Link {
  tenantId: string | null;
  messageId: string | null;
  recipientId: string | null;
  by: BounceEventInput['linkedBy'];
  /** The address the event is about: the one Fanout sent to when a VERP link names it. */
  address: string;
  /** Why the link was refused, kept in the event's diagnostic for people. */
  refused?: string;
}

/** The delivery row for a VERP reference, if the delivery tables know it. */
async function rowForRef(trx: Tx, ref: VerpRef): Promise<{ tenantId: string; recipient: string } | null> {
  const row = await sentRecipient(trx, ref.recipientId);
  if (!row || row.messageId !== ref.messageId) return null;
  return { tenantId: row.tenantId, recipient: row.recipient.toLowerCase() };
}

interface LinkContext {
  report: BounceReport;
  /** VERP references of the envelope recipients, each with the tenant whose domain received it. */
  verpRefs: { ref: VerpRef; tenantId: string }[];
  /** Tenants whose mailboxes (VERP, complaint, unsubscribe addresses) received the message. */
  mailboxTenants: Set<string>;
  fallbackTenant: string | null;
  secret: Buffer;
}

async function linkRecipient(trx: Tx, r: ClassifiedRecipient, ctx: LinkContext): Promise<Link> {
  const onlyOne = ctx.report.recipients.length === 1;
  const unlinked = (refused: string): Link => ({ tenantId: ctx.fallbackTenant, messageId: null, recipientId: null, by: 'none', address: r.recipient, refused });
  // 1. VERP: the envelope recipient the bounce came back to names the message and recipient.
  //    A report about a single recipient is about the one that VERP address was made for, whatever
  //    address the report names (aliases and forwarding rewrite it); with several, only the match.
  for (const { ref, tenantId } of ctx.verpRefs) {
    const row = await rowForRef(trx, ref);
    if (!row || row.tenantId !== tenantId) continue;
    if (row.recipient === r.recipient || onlyOne) return { tenantId: row.tenantId, messageId: ref.messageId, recipientId: ref.recipientId, by: 'verp', address: row.recipient };
  }
  const original = ctx.report.original;
  // 2. The returned original's Return-Path is our VERP address when the report went elsewhere (ARF
  //    reports to the abuse mailbox do): the same rule, for the tenant whose mailbox received it.
  for (const rp of original?.headers.get('return-path') ?? []) {
    const ref = decodeVerp(rp.trim().replace(/^<|>$/g, ''), ctx.secret);
    const row = ref ? await rowForRef(trx, ref) : null;
    if (!ref || !row) continue;
    if (!ctx.mailboxTenants.has(row.tenantId)) return unlinked('the returned original was sent for another tenant');
    if (row.recipient === r.recipient || onlyOne) return { tenantId: row.tenantId, messageId: ref.messageId, recipientId: ref.recipientId, by: 'headers', address: row.recipient };
  }
  // 3. The original's Message-ID, of a message this tenant sent, to this very recipient.
  if (original?.messageId && ctx.mailboxTenants.size > 0) {
    const msg = await sentMessageByHeaderId(trx, original.messageId, [...ctx.mailboxTenants]);
    if (!msg) return unlinked('no message with the returned Message-ID was sent for the receiving tenant');
    const recipientId = await sentRecipientOf(trx, msg.id, r.recipient);
    if (!recipientId) return unlinked('the message with the returned Message-ID was not sent to this recipient');
    return { tenantId: msg.tenantId, messageId: msg.id, recipientId, by: 'message-id', address: r.recipient };
  }
  // Unlinked: kept under the tenant whose domain received it, so people can see it, and not acted on.
  return unlinked('no VERP address or returned original ties it to a message Fanout sent');
}

function summarise(report: BounceReport, status: InboundResult['parseStatus']): string {
  if (status === 'unparseable') return `unparseable: ${report.malformed.join('; ') || 'the MIME structure is broken and no recipient could be read'}`.slice(0, 1000);
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
  // A report whose own structure is broken (a delivery-status recipient that is no address) is
  // kept for people to read and classifies nobody, even where other parts looked readable.
  const parseStatus: InboundResult['parseStatus'] = report.malformed.length > 0 || (report.recipients.length === 0 && report.damaged)
    ? 'unparseable' : report.recipients.length > 0 ? 'classified' : 'unrecognised';
  const decisions = await Promise.all(input.rcptTo.map((a) => decideRecipient(store, secret, a)));
  const accepted = decisions.filter((d): d is Extract<RecipientDecision, { ok: true }> => d.ok);
  const ctx: LinkContext = {
    report,
    verpRefs: accepted.flatMap((d) => (d.kind === 'verp' ? [{ ref: d.ref, tenantId: d.tenantId }] : [])),
    mailboxTenants: new Set(accepted.map((d) => d.tenantId)),
    fallbackTenant: accepted[0]?.tenantId ?? null,
    secret,
  };
  const inboundId = newId('in', now);
  const events: InboundResult['events'] = [];
  await store.transaction(async (trx) => {
    await trx.insertInto('inbound_messages').values({
      id: inboundId, received_at: now, remote_ip: input.remoteIp, mail_from: input.mailFrom, rcpt_to: JSON.stringify(input.rcptTo),
      size: input.raw.length, raw: input.raw, parse_status: parseStatus, kind: report.kind, tenant_id: ctx.fallbackTenant, summary: summarise(report, parseStatus),
    }).execute();
    if (report.kind === 'unrecognised' || parseStatus !== 'classified') return;
    const kind = report.kind;
    for (const r of report.recipients) {
      const link = await linkRecipient(trx, r, ctx);
      const reported = link.address === r.recipient ? '' : `reported for ${r.recipient}; `;
      const diagnostic = link.refused ? `not acted on: ${link.refused}; ${r.diagnostic}` : reported + r.diagnostic;
      const { suppressed } = await recordBounceEvent(trx, {
        at: now, inboundId, tenantId: link.tenantId, messageId: link.messageId, recipientId: link.recipientId, recipient: link.address,
        kind, reason: r.reason, hard: r.hardBounce, status: r.status, replyCode: r.replyCode, diagnostic, linkedBy: link.by,
      }, policy);
      events.push({ recipient: link.address, reason: r.reason, hard: r.hardBounce, linkedBy: link.by, suppressed, messageId: link.messageId, recipientId: link.recipientId });
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
