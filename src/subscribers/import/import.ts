import type { Readable } from 'node:stream';
import type { Actor } from '../../audit/log.ts';
import { recordOperation } from '../../audit/log.ts';
import { AppError, invalid, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Store } from '../../store/store.ts';
import { assertAccess } from '../db.ts';
import { checkEmail } from '../email.ts';
import { unneutralise } from '../export.ts';
import { requireList } from '../lists.ts';
import type { SubscriberImportTable } from '../tables.ts';
import { mapHeader } from './columns.ts';
import type { ColumnMap } from './columns.ts';
import { readCsvRecords } from './csv.ts';
import type { RecordItem } from './records.ts';
import { batchWriter } from './writer.ts';
import type { BatchContext, ImportRow } from './writer.ts';
import { readXlsxRecords } from './xlsx.ts';

export const BATCH_ROWS = 1_000;
/** Per-line errors kept in the report and the import record; the count is always exact. */
export const MAX_REPORTED_ERRORS = 1_000;

export interface ImportProgress {
  importId: string;
  rowsRead: number;
  imported: number;
  updated: number;
  duplicates: number;
  errorCount: number;
  bytesRead: number;
}

export interface LineError {
  line: number;
  reason: string;
}

export interface ImportReport extends ImportProgress {
  status: 'completed' | 'failed';
  errors: LineError[];
  /** True when more errors happened than `errors` holds (see errorCount). */
  errorsTruncated: boolean;
  message: string | null;
  durationMs: number;
}

export interface ImportOptions {
  tenantId: string;
  listId: string;
  source: Readable;
  format: 'csv' | 'xlsx';
  fileName?: string | null;
  /** Status of addresses new on the list: subscribed (default) or unconfirmed. */
  status?: 'subscribed' | 'unconfirmed';
  /** Called after every committed batch. */
  onProgress?: (p: ImportProgress) => void;
  /** An import record made beforehand with createImport (the HTTP API answers with its id at once). */
  importId?: string;
}

/** Makes the import record in state running; its id lets callers poll progress while it runs. */
export async function createImport(store: Store, actor: Actor, input: { tenantId: string; listId: string; format: 'csv' | 'xlsx'; fileName?: string | null }): Promise<string> {
  assertAccess(actor, input.tenantId, true);
  if (input.format !== 'csv' && input.format !== 'xlsx') throw invalid('format must be csv or xlsx', [{ field: 'format', message: 'invalid' }]);
  await requireList(store.db, input.tenantId, input.listId);
  const now = Date.now();
  const id = newId('im', now);
  await store.db.insertInto('subscriber_imports').values({
    id, tenant_id: input.tenantId, list_id: input.listId, format: input.format, file_name: input.fileName ?? null, status: 'running',
    rows_read: 0, imported: 0, updated: 0, duplicates: 0, error_count: 0, errors: '[]', message: null, created_by: actor.operator,
    started_at: now, updated_at: now, finished_at: null,
  }).execute();
  return id;
}

function toRow(item: { line: number; fields: string[] }, cols: ColumnMap, format: 'csv' | 'xlsx'): ImportRow | LineError {
  const f = item.fields;
  if (f.length !== cols.width) {
    const extra = f.slice(cols.width);
    // Spreadsheets leave trailing empty cells out, and often write trailing empty columns.
    const tolerable = f.length > cols.width ? extra.every((x) => !x.trim()) : format === 'xlsx';
    if (!tolerable) return { line: item.line, reason: `expected ${cols.width} fields as in the header, found ${f.length}` };
  }
  const c = checkEmail(unneutralise(f[cols.email] ?? ''));
  if (!c.ok) return { line: item.line, reason: c.reason };
  const name = cols.name === null ? null : unneutralise((f[cols.name] ?? '').trim()) || null;
  if (name && name.length > 256) return { line: item.line, reason: 'name is longer than 256 characters' };
  const attributes: Record<string, string> = {};
  let size = 0;
  for (const [i, key] of cols.attributes) {
    // An exported file imports back to the same values: undo the export's formula guard.
    const v = unneutralise((f[i] ?? '').trim());
    // An empty cell leaves a stored attribute as it is.
    if (v) {
      attributes[key] = v;
      size += key.length + v.length;
    }
  }
  if (size > 16_000) return { line: item.line, reason: 'the attributes of this row exceed 16 KB' };
  return { line: item.line, email: c.email, name, attributes };
}

const isBlank = (item: { fields: string[] }) => item.fields.every((x) => !x.trim());

/**
 * Imports a CSV or XLSX file into a list, streaming: memory stays bounded whatever the file's
 * size (see csv.ts and xlsx.ts for the limits). Rows are written in batches of BATCH_ROWS, one
 * transaction each, progress included, so a crash leaves a consistent, resumable state and the
 * import record says how far it got. Per-line problems (bad address, wrong field count, bad
 * quoting, invalid UTF-8 past the first batch) are reported with line numbers and skipped.
 * A file that cannot be imported at all (empty, no email column, not CSV text, not UTF-8 in its
 * first batch, unreadable XLSX) is refused with a validation AppError before anything is
 * written. One operation-log entry records the import as a whole. The source is left as it is
 * when the import stops early (not destroyed): the caller drains or closes it.
 */
export async function importSubscribers(store: Store, actor: Actor, opts: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const importId = opts.importId ?? await createImport(store, actor, opts);
  assertAccess(actor, opts.tenantId, true);
  const job = await store.db.selectFrom('subscriber_imports').selectAll().where('id', '=', importId).where('tenant_id', '=', opts.tenantId).executeTakeFirst();
  if (!job || job.list_id !== opts.listId) throw notFound('import');
  if (job.status !== 'running' || job.rows_read > 0) throw invalid('this import has already run', [{ field: 'importId', message: 'already run' }]);
  const list = await requireList(store.db, opts.tenantId, opts.listId);

  const ctx: BatchContext = { importId, tenantId: opts.tenantId, listId: opts.listId, status: opts.status === 'unconfirmed' ? 'unconfirmed' : 'subscribed' };
  const writeBatch = batchWriter(store, ctx);
  const progress: ImportProgress = { importId, rowsRead: 0, imported: 0, updated: 0, duplicates: 0, errorCount: 0, bytesRead: 0 };
  const errors: LineError[] = [];
  const addError = (e: LineError) => {
    progress.errorCount++;
    if (errors.length < MAX_REPORTED_ERRORS) errors.push(e);
  };
  let committedBatches = 0;
  let errorsWritten = 0;
  let batch = new Map<string, ImportRow>();
  let firstEncodingError: LineError | null = null;

  const flush = async () => {
    if (!batch.size && committedBatches > 0) return;
    if (committedBatches === 0 && firstEncodingError) {
      throw invalid(`the file is not UTF-8 text (line ${firstEncodingError.line}); save it as "CSV UTF-8" and import again`, [{ field: 'file', message: 'not UTF-8' }]);
    }
    const rows = [...batch.values()];
    batch = new Map();
    await store.transaction(async (trx) => {
      const now = Date.now();
      const c = await writeBatch(trx, rows, now);
      progress.imported += c.imported;
      progress.updated += c.updated;
      progress.duplicates += c.duplicates;
      // The error list is rewritten only while it grows (it stops at MAX_REPORTED_ERRORS).
      const cols = progressColumns(progress, errors.length !== errorsWritten ? errors : null, now);
      await trx.updateTable('subscriber_imports').set(cols).where('id', '=', importId).execute();
    });
    errorsWritten = errors.length;
    committedBatches++;
    opts.onProgress?.({ ...progress });
  };

  const onBytes = (n: number) => { progress.bytesRead += n; };
  // Stopping early must not destroy the source: an HTTP upload's socket still has to carry the answer.
  const records: AsyncGenerator<RecordItem[]> = opts.format === 'xlsx'
    ? readXlsxRecords(opts.source, onBytes)
    : readCsvRecords(opts.source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>, onBytes);
  try {
    let cols: ColumnMap | null = null;
    for await (const items of records) {
      for (const item of items) {
        if (!cols) {
          if ('error' in item) throw invalid(`the header row (line ${item.line}) cannot be read: ${item.error}`, [{ field: 'header', message: item.error }]);
          if (isBlank(item)) continue;
          cols = mapHeader(item.fields);
          continue;
        }
        if ('error' in item) {
          progress.rowsRead++;
          const e = { line: item.line, reason: item.error };
          if (item.code === 'encoding') firstEncodingError ??= e;
          addError(e);
          continue;
        }
        if (isBlank(item)) continue;
        progress.rowsRead++;
        const row = toRow(item, cols, opts.format);
        if ('reason' in row) {
          addError(row);
          continue;
        }
        if (batch.has(row.email)) progress.duplicates++;
        else batch.set(row.email, row);
        if (batch.size >= BATCH_ROWS) await flush();
      }
    }
    if (!cols) throw invalid('the file is empty: it needs a header row naming the columns (one of them "email") and rows below it', [{ field: 'file', message: 'empty' }]);
    await flush();
  } catch (err) {
    await records.return(undefined).catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    await finish(store, actor, list.name, importId, opts, progress, errors, 'failed', committedBatches === 0 ? message : `stopped after ${progress.rowsRead} rows: ${message}`);
    if (err instanceof AppError) throw err;
    throw new AppError('unavailable', `the import stopped after ${progress.rowsRead} rows: ${message}`, { cause: err });
  }
  await finish(store, actor, list.name, importId, opts, progress, errors, 'completed', null);
  return { ...progress, status: 'completed', errors, errorsTruncated: progress.errorCount > errors.length, message: null, durationMs: Date.now() - started };
}

function progressColumns(p: ImportProgress, errors: LineError[] | null, now: number): Partial<SubscriberImportTable> {
  return {
    rows_read: p.rowsRead, imported: p.imported, updated: p.updated, duplicates: p.duplicates, error_count: p.errorCount, updated_at: now,
    ...(errors ? { errors: JSON.stringify(errors) } : {}),
  };
}

async function finish(store: Store, actor: Actor, listName: string, importId: string, opts: ImportOptions, p: ImportProgress, errors: LineError[], status: 'completed' | 'failed', message: string | null): Promise<void> {
  await store.transaction(async (trx) => {
    const now = Date.now();
    await trx.updateTable('subscriber_imports').set({ ...progressColumns(p, errors, now), status, message, finished_at: now }).where('id', '=', importId).execute();
    await recordOperation(trx, actor, {
      operation: 'subscriber.import', objectType: 'list', objectId: opts.listId, tenantId: opts.tenantId,
      description: status === 'completed'
        ? `imported ${opts.format.toUpperCase()} into list ${listName}: ${p.imported} added, ${p.updated} updated, ${p.duplicates} duplicates, ${p.errorCount} errors`
        : `import into list ${listName} failed: ${message}`,
      details: { importId, fileName: opts.fileName ?? null, format: opts.format, status, rowsRead: p.rowsRead, imported: p.imported, updated: p.updated, duplicates: p.duplicates, errorCount: p.errorCount, message },
    });
  });
}

export interface ImportView {
  id: string;
  listId: string;
  format: string;
  fileName: string | null;
  status: string;
  rowsRead: number;
  imported: number;
  updated: number;
  duplicates: number;
  errorCount: number;
  errors: LineError[];
  message: string | null;
  createdBy: string;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** An import's progress or outcome, for the API and the console. */
export async function getImport(store: Store, actor: Actor, tenantId: string, importId: string): Promise<ImportView> {
  assertAccess(actor, tenantId, false);
  const r = await store.db.selectFrom('subscriber_imports').selectAll().where('id', '=', importId).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!r) throw notFound('import');
  return {
    id: r.id, listId: r.list_id, format: r.format, fileName: r.file_name, status: r.status, rowsRead: r.rows_read, imported: r.imported,
    updated: r.updated, duplicates: r.duplicates, errorCount: r.error_count, errors: JSON.parse(r.errors) as LineError[], message: r.message,
    createdBy: r.created_by, startedAt: r.started_at, updatedAt: r.updated_at, finishedAt: r.finished_at,
  };
}
