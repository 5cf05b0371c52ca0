import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { queryDeliveryEvents } from '../delivery/index.ts';
import type { DeliveryEvent, EventQuery } from '../delivery/index.ts';
import { neutraliseCell } from '../http/exports.ts';
import type { Store } from '../store/store.ts';

export const EXPORT_COLUMNS = ['id', 'at', 'tenantId', 'accountId', 'messageId', 'recipientId', 'recipient', 'lane', 'attempt', 'sourceIp', 'mxHost', 'site', 'replyCode', 'enhancedStatus', 'text', 'outcome', 'reason'] as const;

export type ExportFilters = Omit<EventQuery, 'cursor' | 'limit'>;

export interface ExportView {
  id: string;
  format: string;
  status: string;
  rows: number;
  progress: number;
  bytes: number;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  /** Where the file is fetched once done. */
  download: string | null;
}

const PAGE = 1000;

const exportDir = (dataDir: string) => path.join(dataDir, 'exports');
export const exportFile = (dataDir: string, id: string, format: string) => path.join(exportDir(dataDir), `${id}.${format}`);

function cells(e: DeliveryEvent): (string | number)[] {
  return EXPORT_COLUMNS.map((c) => {
    const v = c === 'at' ? new Date(e.at).toISOString() : e[c];
    return typeof v === 'number' ? v : neutraliseCell(v ?? '');
  });
}

/** A sink of rows that waits for the file to drain, so memory stays bounded whatever the size. */
interface RowWriter {
  write(row: (string | number)[]): Promise<void>;
  close(): Promise<void>;
}

function csvWriter(file: string): RowWriter {
  const out = fs.createWriteStream(file);
  const csv = stringify();
  csv.pipe(out);
  out.write('\uFEFF');
  csv.write([...EXPORT_COLUMNS]);
  return {
    async write(row) {
      if (!csv.write(row)) await once(csv, 'drain');
    },
    async close() {
      csv.end();
      await once(out, 'finish');
    },
  };
}

async function xlsxWriter(file: string): Promise<RowWriter> {
  // Loaded on first use: ExcelJS is large and most processes never write a spreadsheet.
  const { default: ExcelJS } = await import('exceljs');
  // The streaming writer commits each row to the zip as it goes; shared strings off keeps it from growing a table in memory.
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
  const ws = wb.addWorksheet('delivery-log');
  ws.addRow([...EXPORT_COLUMNS]).commit();
  return {
    async write(row) {
      ws.addRow(row).commit();
    },
    async close() {
      ws.commit();
      await wb.commit();
    },
  };
}

/**
 * Writes every delivery-log row matching the filters to a file, newest first, page by page
 * (keyset, 1,000 rows), recording progress in the job row after each page.
 */
async function runExport(store: Store, dataDir: string, id: string, filters: ExportFilters, format: 'csv' | 'xlsx'): Promise<void> {
  const file = exportFile(dataDir, id, format);
  try {
    fs.mkdirSync(exportDir(dataDir), { recursive: true, mode: 0o700 });
    const writer = format === 'csv' ? csvWriter(file) : await xlsxWriter(file);
    const first = await store.db.selectFrom('delivery_events').select((eb) => eb.fn.min('at').as('at')).executeTakeFirst();
    const to = filters.to ?? Date.now();
    const from = filters.from ?? Number(first?.at ?? to);
    let cursor: number | null = null;
    let rows = 0;
    let lastSaved = 0;
    for (;;) {
      const page = await queryDeliveryEvents(store.db, { ...filters, cursor, limit: PAGE });
      for (const e of page.events) await writer.write(cells(e));
      rows += page.events.length;
      cursor = page.nextCursor;
      if (!cursor) break;
      const now = Date.now();
      if (now - lastSaved > 500) {
        lastSaved = now;
        const at = page.events[page.events.length - 1]!.at;
        const progress = to > from ? Math.min(0.99, Math.max(0, (to - at) / (to - from))) : 0;
        await store.db.updateTable('analytics_exports').set({ rows, progress }).where('id', '=', id).execute();
      }
    }
    await writer.close();
    await store.db.updateTable('analytics_exports').set({ rows, progress: 1, status: 'done', bytes: fs.statSync(file).size, finished_at: Date.now() }).where('id', '=', id).execute();
  } catch (err) {
    fs.rmSync(file, { force: true });
    await store.db.updateTable('analytics_exports').set({ status: 'failed', error: (err as Error).message.slice(0, 500), finished_at: Date.now() }).where('id', '=', id).execute().catch(() => {});
  }
}

const running = new Set<Promise<void>>();

/**
 * Starts a background export on this node and answers at once with the job. The operation log
 * records who exported what (the delivery log holds recipients' addresses).
 */
export async function startExport(store: Store, actor: Actor, dataDir: string, filters: ExportFilters, format: 'csv' | 'xlsx'): Promise<ExportView> {
  const id = newId('exp');
  const now = Date.now();
  await store.transaction(async (trx) => {
    await trx.insertInto('analytics_exports').values({
      id, tenant_id: filters.tenantId ?? null, account_id: filters.accountId ?? null, operator: actor.operator, filters: JSON.stringify(filters), format,
      status: 'running', rows: 0, progress: 0, bytes: 0, error: null, created_at: now, finished_at: null,
    }).execute();
    await recordOperation(trx, actor, { operation: 'delivery_log.export', objectType: 'export', objectId: id, description: `delivery log export (${format})`, tenantId: filters.tenantId ?? null, details: { filters } }, now);
  });
  const job = runExport(store, dataDir, id, filters, format).finally(() => running.delete(job));
  running.add(job);
  return getExport(store, id, { tenantId: filters.tenantId ?? null });
}

/** Resolves when every export this process started has finished (tests, shutdown). */
export async function exportsSettled(): Promise<void> {
  await Promise.all([...running]);
}

export async function getExport(store: Store, id: string, scope: { tenantId?: string | null; accountId?: string | null }): Promise<ExportView> {
  const r = await store.db.selectFrom('analytics_exports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r || (scope.tenantId && r.tenant_id !== scope.tenantId) || (scope.accountId && r.account_id !== scope.accountId)) throw notFound('export');
  return {
    id: r.id, format: r.format, status: r.status, rows: Number(r.rows), progress: Number(r.progress), bytes: Number(r.bytes), error: r.error,
    createdAt: new Date(Number(r.created_at)).toISOString(), finishedAt: r.finished_at === null ? null : new Date(Number(r.finished_at)).toISOString(),
    download: r.status === 'done' ? `/api/v1/delivery/exports/${r.id}/download` : null,
  };
}
