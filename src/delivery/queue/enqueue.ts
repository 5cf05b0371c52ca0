import { AppError, invalid } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { reserveQuota } from '../../accounts/index.ts';
import type SqliteDatabase from 'better-sqlite3';
import type { Insertable } from 'kysely';
import type { Store, Tx } from '../../store/store.ts';
import { addToRollups } from '../../analytics/index.ts';
import type { RollupEvent } from '../../analytics/index.ts';
import { SplitBody, storeParts } from './bodies.ts';
import type { DeliveryEventTable, DeliveryMessageTable, DeliveryRecipientTable, Lane } from '../tables.ts';

export interface EnqueueRecipient {
  email: string;
  /** Caller-chosen recipient id (HTTP API idempotency); made here when absent. */
  id?: string;
}

export interface EnqueueItem {
  tenantId: string;
  accountId: string;
  lane: Lane;
  /** Envelope sender; its domain selects the DKIM key and the return-path domain. */
  mailFrom: string;
  recipients: EnqueueRecipient[];
  /**
   * The full RFC 5322 message, headers included (Message-ID and Received already added), or
   * the same split by a BodySplitter so that parts shared with other messages are stored once.
   */
  raw: Buffer | SplitBody;
  /** Caller-chosen message id; made here when absent. */
  messageId?: string;
  headerMessageId?: string | null;
  source?: 'smtp' | 'api' | 'campaign';
  /** The submitting business system's address, for statistics and the delivery log. */
  clientIp?: string | null;
}

export interface EnqueueResult {
  messageId: string;
  recipientIds: string[];
}

export type QuotaRefusal = { ok: false; reason: 'quota_exceeded' | 'held' | 'disabled'; message: string };
export type ItemOutcome = { ok: true; result: EnqueueResult } | QuotaRefusal;

/**
 * Looks up which recipients must not be sent to (suppression list); returns email → reason.
 * The bounce capability provides it; when absent nobody is suppressed.
 */
export type SuppressionCheck = (trx: Tx, tenantId: string, emails: string[]) => Promise<Map<string, string>>;

export interface WriteOptions {
  now?: number;
  suppression?: SuppressionCheck | null;
  /**
   * The raw SQLite handle of the store the transaction belongs to (`store.sqlite`): the rows
   * then go in through statements prepared once, run inside that transaction (which holds the
   * one connection), instead of multi-row inserts that Kysely compiles and SQLite prepares anew
   * for every batch.
   */
  sqlite?: SqliteDatabase.Database;
}

interface InsertStatements {
  message: SqliteDatabase.Statement;
  recipient: SqliteDatabase.Statement;
  event: SqliteDatabase.Statement;
}

const prepared = new WeakMap<SqliteDatabase.Database, InsertStatements>();

function insertStatements(db: SqliteDatabase.Database): InsertStatements {
  let s = prepared.get(db);
  if (!s) {
    s = {
      message: db.prepare(`insert into delivery_messages (id, tenant_id, account_id, lane, mail_from, from_domain, body, body_format, size, header_message_id, source,
        recipient_count, created_at, client_ip) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      recipient: db.prepare(`insert into delivery_recipients (id, message_id, tenant_id, account_id, lane, recipient, domain, state, attempts, first_queued_at,
        next_attempt_at, lease_owner, lease_expires_at, site, last_reply_code, last_text, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      event: db.prepare(`insert into delivery_events (at, tenant_id, account_id, message_id, recipient_id, recipient, lane, attempt, source_ip,
        mx_host, site, reply_code, enhanced_status, text, outcome, reason) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    };
    prepared.set(db, s);
  }
  return s;
}

// SQLite allows 32,766 bound values per statement; a recipient row has 17 columns.
const RECIPIENT_CHUNK = 1000;
const MESSAGE_CHUNK = 200;

const sizeOf = (raw: Buffer | SplitBody) => (raw instanceof SplitBody ? raw.size : raw.length);

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** Throws a validation AppError for an item that can never be stored. */
export function validateItem(item: EnqueueItem, index = 0): void {
  if (!item.recipients.length) throw invalid(`message ${index} has no recipients`, [{ field: `/${index}/recipients`, message: 'at least one recipient' }]);
  if (!domainOf(item.mailFrom)) throw invalid(`message ${index}: envelope sender "${item.mailFrom}" has no domain`, [{ field: `/${index}/mailFrom`, message: 'needs a domain' }]);
  item.recipients.forEach((r, i) => {
    if (!domainOf(r.email) || r.email.indexOf('@') < 1) throw invalid(`message ${index}: recipient "${r.email}" is not an address`, [{ field: `/${index}/recipients/${i}/email`, message: 'not an address' }]);
  });
}

/**
 * An unsubscribe stops marketing, not a bank's statements or one-time codes: transactional
 * mail skips only the addresses that bounced hard, complained or were suppressed by hand.
 */
function laneView(found: Map<string, string>, lane: string): Map<string, string> {
  if (lane === 'bulk' || found.size === 0) return found;
  return new Map([...found].filter(([, reason]) => reason !== 'unsubscribe'));
}

/**
 * Reserves quota for every item, one call per account when the whole group fits, one per
 * item otherwise so that a batch of many submissions refuses only those over the line.
 */
async function reserveAll(trx: Tx, items: EnqueueItem[], counts: number[], now: number): Promise<(QuotaRefusal | null)[]> {
  // Bytes count what will be sent: the message's size once per recipient it goes to.
  const bytes = items.map((it, i) => sizeOf(it.raw) * (counts[i] ?? 0));
  const verdicts: (QuotaRefusal | null)[] = items.map(() => null);
  const byAccount = new Map<string, number[]>();
  items.forEach((it, i) => {
    const list = byAccount.get(it.accountId) ?? [];
    list.push(i);
    byAccount.set(it.accountId, list);
  });
  for (const [accountId, indexes] of byAccount) {
    const total = indexes.reduce((n, i) => n + (counts[i] ?? 0), 0);
    const totalBytes = indexes.reduce((n, i) => n + (bytes[i] ?? 0), 0);
    const whole = await reserveQuota(trx, accountId, total, now, totalBytes);
    if (whole.ok) continue;
    if (indexes.length === 1 || whole.reason !== 'quota_exceeded') {
      for (const i of indexes) verdicts[i] = whole;
      continue;
    }
    for (const i of indexes) {
      const one = await reserveQuota(trx, accountId, counts[i] ?? 0, now, bytes[i] ?? 0);
      if (!one.ok) verdicts[i] = one;
    }
  }
  return verdicts;
}

/**
 * Writes a group of messages inside the caller's transaction: quota reserved, bodies stored
 * once, one recipient row each. Items refused for quota are written nowhere and reported.
 */
export async function writeMessages(trx: Tx, items: EnqueueItem[], options: WriteOptions = {}): Promise<ItemOutcome[]> {
  const now = options.now ?? Date.now();
  items.forEach((it, i) => validateItem(it, i));
  // One suppression look-up per tenant for the whole batch, not one per message.
  const byTenant = new Map<string, Map<string, string>>();
  if (options.suppression) {
    const emails = new Map<string, Set<string>>();
    for (const it of items) {
      const set = emails.get(it.tenantId) ?? new Set<string>();
      for (const r of it.recipients) set.add(r.email);
      emails.set(it.tenantId, set);
    }
    for (const [tenantId, set] of emails) byTenant.set(tenantId, await options.suppression(trx, tenantId, [...set]));
  }
  const none = new Map<string, string>();
  const suppressed = items.map((it) => laneView(byTenant.get(it.tenantId) ?? none, it.lane));
  const counts = items.map((it, i) => it.recipients.filter((r) => !suppressed[i]!.has(r.email)).length);
  const verdicts = await reserveAll(trx, items, counts, now);

  const messages: (Insertable<DeliveryMessageTable> & { body_format: number })[] = [];
  const recipients: DeliveryRecipientTable[] = [];
  const events: Omit<DeliveryEventTable, 'id'>[] = [];
  const counted: RollupEvent[] = [];
  const shared: { tenantId: string; body: SplitBody }[] = [];
  const outcomes: ItemOutcome[] = items.map((it, i) => {
    const refusal = verdicts[i];
    if (refusal) return refusal;
    const messageId = it.messageId ?? newId('msg', now);
    const split = it.raw instanceof SplitBody ? it.raw : null;
    if (split?.format === 1) shared.push({ tenantId: it.tenantId, body: split });
    messages.push({
      id: messageId, tenant_id: it.tenantId, account_id: it.accountId, lane: it.lane, mail_from: it.mailFrom,
      from_domain: domainOf(it.mailFrom), body: split ? split.stored : (it.raw as Buffer), body_format: split?.format ?? 0, size: sizeOf(it.raw), header_message_id: it.headerMessageId ?? null,
      source: it.source ?? 'api', recipient_count: it.recipients.length, created_at: now, client_ip: it.clientIp ?? null,
    });
    // Plain platform ids: the compact VERP form (b-1..., within the 64-octet local part)
    // packs exactly a msg_ and an rc_ id.
    const recipientIds = it.recipients.map((r) => {
      const id = r.id ?? newId('rc', now);
      const reason = suppressed[i]!.get(r.email);
      const origin = { at: now, tenantId: it.tenantId, accountId: it.accountId, clientIp: it.clientIp, senderDomain: domainOf(it.mailFrom), recipientDomain: domainOf(r.email) };
      counted.push({ ...origin, outcome: 'submitted' });
      if (reason) counted.push({ ...origin, outcome: 'suppressed', reason });
      recipients.push({
        id, message_id: messageId, tenant_id: it.tenantId, account_id: it.accountId, lane: it.lane, recipient: r.email,
        domain: domainOf(r.email), state: reason ? 'suppressed' : 'queued', attempts: 0, first_queued_at: now, next_attempt_at: now,
        lease_owner: null, lease_expires_at: null, site: null, last_reply_code: null, last_text: reason ? `suppressed: ${reason}` : null, updated_at: now,
      });
      if (reason) {
        // Dropped before sending, never silently: the delivery log says why.
        events.push({
          at: now, tenant_id: it.tenantId, account_id: it.accountId, message_id: messageId, recipient_id: id, recipient: r.email,
          lane: it.lane, attempt: 0, source_ip: null, mx_host: null, site: null, reply_code: null, enhanced_status: null,
          text: `recipient is on the suppression list (${reason})`, outcome: 'failed', reason: 'suppressed',
        });
      }
      return id;
    });
    return { ok: true, result: { messageId, recipientIds } };
  });
  if (shared.length) await storeParts(trx, shared, now);
  await addToRollups(trx, counted);
  if (options.sqlite) {
    const st = insertStatements(options.sqlite);
    for (const m of messages) {
      st.message.run(m.id, m.tenant_id, m.account_id, m.lane, m.mail_from, m.from_domain, m.body, m.body_format, m.size, m.header_message_id, m.source, m.recipient_count, m.created_at, m.client_ip ?? null);
    }
    for (const r of recipients) {
      st.recipient.run(r.id, r.message_id, r.tenant_id, r.account_id, r.lane, r.recipient, r.domain, r.state, r.attempts, r.first_queued_at,
        r.next_attempt_at, r.lease_owner, r.lease_expires_at, r.site, r.last_reply_code, r.last_text, r.updated_at);
    }
    for (const e of events) {
      st.event.run(e.at, e.tenant_id, e.account_id, e.message_id, e.recipient_id, e.recipient, e.lane, e.attempt, e.source_ip,
        e.mx_host, e.site, e.reply_code, e.enhanced_status, e.text, e.outcome, e.reason);
    }
    return outcomes;
  }
  for (let i = 0; i < messages.length; i += MESSAGE_CHUNK) await trx.insertInto('delivery_messages').values(messages.slice(i, i + MESSAGE_CHUNK)).execute();
  for (let i = 0; i < recipients.length; i += RECIPIENT_CHUNK) await trx.insertInto('delivery_recipients').values(recipients.slice(i, i + RECIPIENT_CHUNK)).execute();
  for (let i = 0; i < events.length; i += RECIPIENT_CHUNK) await trx.insertInto('delivery_events').values(events.slice(i, i + RECIPIENT_CHUNK)).execute();
  return outcomes;
}

/**
 * Enqueues messages atomically for the HTTP API: either every message is committed or none
 * (a quota refusal of any of them raises `quota_exceeded` and nothing is stored).
 */
export async function enqueueMessages(store: Store, items: EnqueueItem[], options: WriteOptions = {}): Promise<EnqueueResult[]> {
  if (!items.length) return [];
  return store.transaction(async (trx) => {
    const outcomes = await writeMessages(trx, items, { ...options, sqlite: store.sqlite });
    const refused = outcomes.find((o): o is QuotaRefusal => !o.ok);
    // Throwing rolls back the quota already reserved for the others.
    if (refused) throw new AppError(refused.reason === 'quota_exceeded' ? 'quota_exceeded' : 'forbidden', refused.message);
    return outcomes.map((o) => (o as { ok: true; result: EnqueueResult }).result);
  });
}
