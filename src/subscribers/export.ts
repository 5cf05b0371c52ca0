import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { stringify } from 'csv-stringify/sync';
import { PassThrough } from 'node:stream';
import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { invalid } from '../core/errors.ts';
import type { Executor } from '../store/store.ts';
import { assertAccess, executor, inTransaction, isPostgres } from './db.ts';
import type { StoreOrTx } from './db.ts';
import { requireList } from './lists.ts';
import { memberPage } from './subscribers.ts';
import type { MemberView } from './subscribers.ts';
import { MEMBER_STATUSES } from './tables.ts';
import type { MemberStatus } from './tables.ts';

const PAGE = 1_000;
const MAX_ATTRIBUTE_COLUMNS = 200;

/**
 * A spreadsheet evaluates a cell that starts with = + - @ (and, in some, tab or CR) as a
 * formula; a subscriber's attribute must never run as one on an operator's machine (CSV
 * injection). Such cells get a leading single quote, which spreadsheets show as text.
 */
export function neutralise(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

/** The inverse, used on import so that an exported file imports back to the same values. */
export function unneutralise(v: string): string {
  return /^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v;
}

export interface ExportOptions {
  tenantId: string;
  listId: string;
  format: 'csv' | 'xlsx';
  status?: MemberStatus;
}

export interface ExportResult {
  stream: Readable;
  fileName: string;
  contentType: string;
  columns: string[];
}

async function attributeKeys(db: Executor, listId: string, status: MemberStatus | undefined): Promise<string[]> {
  const statusFilter = status ? sql`and m.status = ${status}` : sql``;
  const q = isPostgres(db)
    ? sql<{ key: string }>`select distinct jsonb_object_keys(s.attributes::jsonb) as key from list_members m join subscribers s on s.id = m.subscriber_id where m.list_id = ${listId} ${statusFilter}`
    : sql<{ key: string }>`select distinct j.key as key from list_members m join subscribers s on s.id = m.subscriber_id, json_each(s.attributes) j where m.list_id = ${listId} ${statusFilter}`;
  const keys = (await q.execute(db)).rows.map((r) => r.key).sort();
  return keys.slice(0, MAX_ATTRIBUTE_COLUMNS);
}

const FIXED = ['email', 'name', 'status', 'subscribed_at', 'updated_at'];

function cells(m: MemberView, keys: string[]): string[] {
  const out = [m.email, m.name ?? '', m.status, new Date(m.createdAt).toISOString(), new Date(m.updatedAt).toISOString()];
  for (const k of keys) {
    const v = m.attributes[k];
    out.push(v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return out.map(neutralise);
}

async function* pages(db: Executor, listId: string, status: MemberStatus | undefined): AsyncGenerator<MemberView[]> {
  let after = 0;
  for (;;) {
    const page = await memberPage(db, listId, status, after, PAGE);
    if (!page.length) return;
    yield page;
    after = page[page.length - 1]!.id;
  }
}

/**
 * A list's members as a CSV (UTF-8 with a BOM, so spreadsheets read Chinese correctly) or an
 * XLSX stream, read in keyset pages so a list of millions streams in bounded memory. Columns:
 * email, name, status, subscribed_at, updated_at, then one per custom attribute. Every cell is
 * neutralised against formula injection. The export of personal data is logged.
 */
export async function exportSubscribers(s: StoreOrTx, actor: Actor, opts: ExportOptions): Promise<ExportResult> {
  assertAccess(actor, opts.tenantId, false);
  if (opts.format !== 'csv' && opts.format !== 'xlsx') throw invalid('format must be csv or xlsx', [{ field: 'format', message: 'invalid' }]);
  if (opts.status !== undefined && !MEMBER_STATUSES.includes(opts.status)) throw invalid(`status must be one of ${MEMBER_STATUSES.join(', ')}`, [{ field: 'status', message: 'invalid' }]);
  const db = executor(s);
  const list = await requireList(db, opts.tenantId, opts.listId);
  const keys = await attributeKeys(db, list.id, opts.status);
  const columns = [...FIXED, ...keys];
  await inTransaction(s, (trx) => recordOperation(trx, actor, {
    operation: 'subscriber.export', objectType: 'list', objectId: list.id, tenantId: opts.tenantId,
    description: `exported list ${list.name} as ${opts.format.toUpperCase()}${opts.status ? ` (${opts.status} only)` : ''}`,
    details: { format: opts.format, status: opts.status ?? null, columns: columns.length },
  }));
  const base = `${list.name.replace(/[^\p{L}\p{N}_-]+/gu, '_')}-${new Date().toISOString().slice(0, 10)}`;
  if (opts.format === 'csv') {
    const stream = Readable.from((async function* () {
      yield Buffer.from(`\uFEFF${stringify([columns.map(neutralise)], { record_delimiter: '\r\n' })}`);
      for await (const page of pages(db, list.id, opts.status)) yield Buffer.from(stringify(page.map((m) => cells(m, keys)), { record_delimiter: '\r\n' }));
    })());
    return { stream, fileName: `${base}.csv`, contentType: 'text/csv; charset=utf-8', columns };
  }
  return { stream: xlsxStream(db, list.id, list.name, opts.status, columns, keys), fileName: `${base}.xlsx`, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', columns };
}

/** Pauses the producer while the consumer has more than this much unread. */
const HIGH_WATER = 4 * 1024 * 1024;

function xlsxStream(db: Executor, listId: string, listName: string, status: MemberStatus | undefined, columns: string[], keys: string[]): Readable {
  const out = new PassThrough();
  void (async () => {
    // exceljs is loaded on the first spreadsheet, not at start (about 35 MiB resident).
    const { default: ExcelJS } = await import('exceljs');
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
    const ws = wb.addWorksheet(listName.slice(0, 31).replace(/[[\]:*?/\\]/g, '_') || 'subscribers');
    ws.addRow(columns.map(neutralise)).commit();
    for await (const page of pages(db, listId, status)) {
      for (const m of page) ws.addRow(cells(m, keys)).commit();
      // exceljs does not wait for its reader; wait here so a slow download holds little memory.
      while (out.readableLength > HIGH_WATER && !out.destroyed) await new Promise((r) => setTimeout(r, 10));
      if (out.destroyed) return;
    }
    ws.commit();
    await wb.commit();
  })().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}
