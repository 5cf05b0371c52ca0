import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { sql } from 'kysely';
import { loadBodies } from '../delivery/index.ts';
import type { Store, Tx } from '../store/store.ts';
import type { ArchiveConfig } from './config.ts';
import { expiryFor, policyOf } from './policy.ts';
import type { RetentionPolicy } from './policy.ts';

export const utcDay = (at: number) => new Date(at).toISOString().slice(0, 10);

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Tags a sender gives a message: `X-Fanout-Tag: statement, monthly` (several headers allowed). */
export function tagsOf(headers: Map<string, unknown>): string[] {
  const v = headers.get('x-fanout-tag');
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return [...new Set(list.flatMap((x) => String(x).split(',')).map((t) => t.trim().toLowerCase()).filter(Boolean))].slice(0, 20);
}

function bareMessageId(v: string | undefined): string | null {
  if (!v) return null;
  return v.trim().replace(/^<|>$/g, '') || null;
}

interface Parsed {
  subject: string;
  sender: string;
  headerMessageId: string | null;
  tags: string[];
  text: string;
}

async function parse(bytes: Buffer, maxChars: number): Promise<Parsed> {
  try {
    const m = await simpleParser(bytes, { skipHtmlToText: false, skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: 2 * 1024 * 1024 });
    const sender = (m.from?.value[0]?.address ?? '').toLowerCase();
    const text = (m.text ?? '').replace(/\s+/g, ' ').trim().slice(0, maxChars);
    return { subject: m.subject ?? '', sender, headerMessageId: bareMessageId(m.messageId), tags: tagsOf(m.headers as Map<string, unknown>), text };
  } catch {
    // A message the parser cannot read is still archived, byte for byte; only its search text is poorer.
    return { subject: '', sender: '', headerMessageId: null, tags: [], text: '' };
  }
}

/**
 * Archives signed messages waiting in `archive_pending`, a batch per transaction: the bytes as
 * they went on the wire, their hash, the expiry from the tenant's policy, the recipients and
 * the search text. Returns how many were archived.
 */
export async function archivePending(store: Store, config: ArchiveConfig, options: { now?: () => number; limit?: number } = {}): Promise<number> {
  const now = options.now ?? Date.now;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const policies = new Map<string, RetentionPolicy>();
  let done = 0;
  while (done < limit) {
    const pending = await store.db.selectFrom('archive_pending').selectAll().orderBy('signed_at').limit(Math.min(config.batchSize, limit - done)).execute();
    if (!pending.length) break;
    const ids = pending.map((p) => p.message_id);
    const messages = await store.db.selectFrom('delivery_messages').select(['id', 'tenant_id', 'account_id', 'lane', 'mail_from', 'body', 'body_format']).where('id', 'in', ids).execute();
    const bodies = await loadBodies(store.db, messages);
    const recipients = await store.db.selectFrom('delivery_recipients').select(['message_id', 'recipient']).where('message_id', 'in', ids).execute();
    const byMessage = new Map<string, string[]>();
    for (const r of recipients) byMessage.set(r.message_id, [...(byMessage.get(r.message_id) ?? []), r.recipient.toLowerCase()]);
    const at = now();
    const rows: Archivable[] = [];
    for (const p of pending) {
      const m = messages.find((x) => x.id === p.message_id);
      const stored = bodies.get(p.message_id);
      if (!m || !stored) continue;
      const prefix = Buffer.isBuffer(p.prefix) ? p.prefix : Buffer.from(p.prefix);
      const wire = Number(p.whole) === 1 ? prefix : Buffer.concat([prefix, stored]);
      const parsed = await parse(wire, config.searchTextChars);
      let policy = policies.get(m.tenant_id);
      if (!policy) {
        policy = await policyOf(store.db, m.tenant_id, config.defaultRetentionDays);
        policies.set(m.tenant_id, policy);
      }
      rows.push({
        m, wire, parsed, recipients: byMessage.get(m.id) ?? [], signedAt: Number(p.signed_at),
        expiresAt: expiryFor(policy, { accountId: m.account_id, lane: m.lane, tags: parsed.tags }, at),
      });
    }
    await store.transaction(async (trx) => {
      for (const r of rows) await insertArchived(trx, store.engine, r, at);
      await trx.deleteFrom('archive_pending').where('message_id', 'in', ids).execute();
    });
    done += pending.length;
  }
  return done;
}

interface Archivable {
  m: { id: string; tenant_id: string; account_id: string; lane: string; mail_from: string };
  wire: Buffer;
  parsed: Parsed;
  recipients: string[];
  signedAt: number;
  expiresAt: number;
}

async function insertArchived(trx: Tx, engine: 'sqlite' | 'postgres', r: Archivable, at: number): Promise<void> {
  const searchText = [r.parsed.subject, r.parsed.sender, r.m.mail_from, r.parsed.text].filter(Boolean).join('\n');
  const inserted = await trx.insertInto('archive_messages').values({
    tenant_id: r.m.tenant_id, account_id: r.m.account_id, lane: r.m.lane, message_id: r.m.id, header_message_id: r.parsed.headerMessageId,
    mail_from: r.m.mail_from, sender: r.parsed.sender, subject: r.parsed.subject, tags: r.parsed.tags.length ? `,${r.parsed.tags.join(',')},` : '',
    sent_at: r.signedAt, archived_at: at, expires_at: r.expiresAt, day: utcDay(at), size: r.wire.length, sha256: sha256Hex(r.wire),
    body: r.wire, search_text: searchText, removed_at: null, removed_reason: null,
  }).onConflict((oc) => oc.column('message_id').doNothing()).returning('id').executeTakeFirst();
  if (!inserted) return;
  const id = Number(inserted.id);
  for (let i = 0; i < r.recipients.length; i += 1000) {
    await trx.insertInto('archive_recipients').values(r.recipients.slice(i, i + 1000).map((recipient) => ({ archive_id: id, tenant_id: r.m.tenant_id, recipient, sent_at: r.signedAt }))).execute();
  }
  if (engine === 'sqlite') await sql`insert into archive_fts (rowid, text) values (${id}, ${searchText})`.execute(trx);
}
