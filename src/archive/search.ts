import { sql } from 'kysely';
import type { Expression, SqlBool } from 'kysely';
import type { Engine } from '../store/dialect.ts';
import type { Executor } from '../store/store.ts';

/** What an archive search (and a legal hold by search) selects; every field given must match. */
export interface ArchiveFilter {
  tenantId?: string | null;
  /** Full text: every whitespace-separated term appears in the subject, sender or text. */
  q?: string;
  recipient?: string;
  sender?: string;
  subject?: string;
  /** The Message-ID header (with or without <>) or the platform's msg_ id. */
  messageId?: string;
  tag?: string;
  from?: number;
  to?: number;
}

export interface ArchiveItem {
  id: number;
  messageId: string;
  headerMessageId: string | null;
  tenantId: string;
  accountId: string;
  lane: string;
  sender: string;
  mailFrom: string;
  recipient: string;
  recipients: string[];
  subject: string;
  tags: string[];
  size: number;
  sha256: string;
  sentAt: string;
  archivedAt: string;
  expiresAt: string;
}

/** Terms of a full-text query. Trigram indexes answer terms of three characters or more. */
export function termsOf(q: string | undefined): string[] {
  return (q ?? '').normalize('NFC').split(/\s+/).map((t) => t.trim()).filter(Boolean).slice(0, 10);
}

/** Most rows a recipient or message-id look-up considers (newest first). */
const MAX_LOOKUP = 10_000;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
const ftsPhrase = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * One term of full text. SQLite: the FTS5 trigram table for three characters or more; one and
 * two characters (common in Chinese: 银行, 账) have no trigram, so they fall back to a LIKE
 * over the stored text of the rows the other conditions (tenant, time range) leave. PostgreSQL:
 * ILIKE, which the pg_trgm GIN index answers for three characters or more; shorter terms are
 * rechecked row by row the same way.
 */
function textTerm(engine: Engine, term: string, ids: { min: number; max: number } | null): Expression<SqlBool> {
  const like = `%${likeEscape(term)}%`;
  if (engine === 'postgres') return sql<SqlBool>`am.search_text ilike ${like} escape '\\'`;
  // Row ids grow with archiving time: the time range's id range keeps FTS to that month's rows.
  if ([...term].length >= 3 && ids) return sql<SqlBool>`am.id in (select rowid from archive_fts where archive_fts match ${ftsPhrase(term)} and rowid between ${ids.min} and ${ids.max})`;
  if ([...term].length >= 3) return sql<SqlBool>`am.id in (select rowid from archive_fts where archive_fts match ${ftsPhrase(term)})`;
  return sql<SqlBool>`am.search_text like ${like} escape '\\'`;
}

export async function searchArchive(db: Executor, engine: Engine, f: ArchiveFilter, page: { limit: number; before?: { sentAt: number; id: number } }): Promise<{ items: ArchiveItem[]; next: string | null }> {
  let q = db.selectFrom('archive_messages as am').select(['am.id', 'am.message_id', 'am.header_message_id', 'am.tenant_id', 'am.account_id', 'am.lane', 'am.sender', 'am.mail_from', 'am.subject', 'am.tags', 'am.size', 'am.sha256', 'am.sent_at', 'am.archived_at', 'am.expires_at'])
    .where('am.removed_at', 'is', null);
  if (f.tenantId) q = q.where('am.tenant_id', '=', f.tenantId);
  if (f.from !== undefined) q = q.where('am.sent_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('am.sent_at', '<', f.to);
  // Look-ups by recipient or message id select few rows: their ids come first from their own
  // index, so the planner never walks the tenant's time index instead.
  const recipient = f.recipient?.trim().toLowerCase();
  let only: number[] | null = null;
  if (recipient) {
    let sub = db.selectFrom('archive_recipients').select('archive_id').where('recipient', '=', recipient);
    if (f.tenantId) sub = sub.where('tenant_id', '=', f.tenantId);
    if (f.from !== undefined) sub = sub.where('sent_at', '>=', f.from);
    if (f.to !== undefined) sub = sub.where('sent_at', '<', f.to);
    only = (await sub.orderBy('sent_at', 'desc').limit(MAX_LOOKUP).execute()).map((r) => Number(r.archive_id));
  }
  if (f.messageId) {
    const bare = f.messageId.trim().replace(/^<|>$/g, '');
    const byHeader = await db.selectFrom('archive_messages').select('id').where('header_message_id', '=', bare).limit(MAX_LOOKUP).execute();
    const byId = await db.selectFrom('archive_messages').select('id').where('message_id', '=', bare).execute();
    const found = [...byHeader, ...byId].map((r) => Number(r.id));
    only = only ? only.filter((id) => found.includes(id)) : found;
  }
  if (only) {
    if (!only.length) return { items: [], next: null };
    q = q.where('am.id', 'in', only);
  }
  let idRange: { min: number; max: number } | null = null;
  if (engine === 'sqlite' && !only && termsOf(f.q).some((t) => [...t].length >= 3) && (f.from !== undefined || f.to !== undefined)) {
    let r = db.selectFrom('archive_messages').select((eb) => [eb.fn.min('id').as('min'), eb.fn.max('id').as('max')]);
    if (f.tenantId) r = r.where('tenant_id', '=', f.tenantId);
    if (f.from !== undefined) r = r.where('sent_at', '>=', f.from);
    if (f.to !== undefined) r = r.where('sent_at', '<', f.to);
    const range = await r.executeTakeFirst();
    if (!range || range.min === null) return { items: [], next: null };
    idRange = { min: Number(range.min), max: Number(range.max) };
  }
  if (f.sender) q = q.where('am.sender', '=', f.sender.trim().toLowerCase());
  if (f.subject) q = q.where(engine === 'postgres' ? sql<SqlBool>`am.subject ilike ${`%${likeEscape(f.subject)}%`} escape '\\'` : sql<SqlBool>`am.subject like ${`%${likeEscape(f.subject)}%`} escape '\\'`);
  if (f.tag) q = q.where('am.tags', 'like', `%,${likeEscape(f.tag.trim().toLowerCase())},%`);
  for (const term of termsOf(f.q)) q = q.where(textTerm(engine, term, idRange));
  if (page.before) {
    const b = page.before;
    q = q.where((eb) => eb.or([eb('am.sent_at', '<', b.sentAt), eb.and([eb('am.sent_at', '=', b.sentAt), eb('am.id', '<', b.id)])]));
  }
  const rows = await q.orderBy('am.sent_at', 'desc').orderBy('am.id', 'desc').limit(page.limit + 1).execute();
  const more = rows.length > page.limit;
  const shown = rows.slice(0, page.limit);
  const ids = shown.map((r) => Number(r.id));
  const recipients = new Map<number, string[]>();
  if (ids.length) {
    for (const r of await db.selectFrom('archive_recipients').select(['archive_id', 'recipient']).where('archive_id', 'in', ids).execute()) {
      const id = Number(r.archive_id);
      recipients.set(id, [...(recipients.get(id) ?? []), r.recipient]);
    }
  }
  const iso = (n: number) => new Date(Number(n)).toISOString();
  const items = shown.map((r) => {
    const list = recipients.get(Number(r.id)) ?? [];
    return {
      id: Number(r.id), messageId: r.message_id, headerMessageId: r.header_message_id, tenantId: r.tenant_id, accountId: r.account_id, lane: r.lane,
      sender: r.sender, mailFrom: r.mail_from, recipient: recipient && list.includes(recipient) ? recipient : (list[0] ?? ''), recipients: list,
      subject: r.subject, tags: r.tags.split(',').filter(Boolean), size: Number(r.size), sha256: r.sha256,
      sentAt: iso(r.sent_at), archivedAt: iso(r.archived_at), expiresAt: iso(r.expires_at),
    };
  });
  const last = shown[shown.length - 1];
  return { items, next: more && last ? `${Number(last.sent_at)}.${Number(last.id)}` : null };
}

/** The same filter, judged on one row in memory (legal holds by search). */
export function matchesFilter(f: ArchiveFilter, row: { tenant_id: string; search_text: string | null; sender: string; subject: string; tags: string; header_message_id: string | null; message_id: string; sent_at: number }, recipients: string[]): boolean {
  if (f.tenantId && row.tenant_id !== f.tenantId) return false;
  if (f.from !== undefined && Number(row.sent_at) < f.from) return false;
  if (f.to !== undefined && Number(row.sent_at) >= f.to) return false;
  if (f.recipient && !recipients.includes(f.recipient.trim().toLowerCase())) return false;
  if (f.sender && row.sender !== f.sender.trim().toLowerCase()) return false;
  if (f.subject && !row.subject.toLowerCase().includes(f.subject.toLowerCase())) return false;
  if (f.tag && !row.tags.includes(`,${f.tag.trim().toLowerCase()},`)) return false;
  if (f.messageId) {
    const bare = f.messageId.trim().replace(/^<|>$/g, '');
    if (row.header_message_id !== bare && row.message_id !== bare) return false;
  }
  const text = (row.search_text ?? '').toLowerCase();
  return termsOf(f.q).every((t) => text.includes(t.toLowerCase()));
}
