import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Value } from '@sinclair/typebox/value';
import type { Actor } from '../../audit/index.ts';
import { recordOperation } from '../../audit/index.ts';
import { conflict, invalid, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Store } from '../../store/store.ts';
import { ImportConfigSchema } from '../config.ts';
import type { ImportConfig } from '../config.ts';
import { assertAccess } from '../db.ts';
import { requireList } from '../lists.ts';
import type { ImportStatus, MemberStatus, SubscriberImportTable } from '../tables.ts';
import type { LineError } from './rows.ts';
import { runImport } from './run.ts';
import type { ImportProgress, ImportReport } from './run.ts';
import { describeFile, spool } from './spool.ts';
import type { ImportFile } from './spool.ts';

export { BATCH_ROWS } from './rows.ts';
export type { LineError } from './rows.ts';
export { MAX_REPORTED_ERRORS } from './run.ts';
export type { ImportProgress, ImportReport } from './run.ts';

export type NewMemberStatus = 'subscribed' | 'unconfirmed';

/** The import defaults of the configuration, with any given values over them. */
export function importConfig(over: Partial<ImportConfig> = {}): ImportConfig {
  return Value.Default(ImportConfigSchema, structuredClone(over)) as ImportConfig;
}

/** Makes the import record, `pending` until its file arrives; its id lets callers poll progress. */
export async function createImport(store: Store, actor: Actor, input: { tenantId: string; listId: string; format: 'csv' | 'xlsx'; fileName?: string | null; status?: NewMemberStatus }): Promise<string> {
  assertAccess(actor, input.tenantId, true);
  if (input.format !== 'csv' && input.format !== 'xlsx') throw invalid('format must be csv or xlsx', [{ field: 'format', message: 'invalid' }]);
  await requireList(store.db, input.tenantId, input.listId);
  const now = Date.now();
  const id = newId('im', now);
  await store.db.insertInto('subscriber_imports').values({
    id, tenant_id: input.tenantId, list_id: input.listId, format: input.format, file_name: input.fileName ?? null, status: 'pending',
    rows_read: 0, imported: 0, updated: 0, duplicates: 0, error_count: 0, errors: '[]', message: null, created_by: actor.operator,
    started_at: now, updated_at: now, finished_at: null, new_status: input.status === 'unconfirmed' ? 'unconfirmed' : 'subscribed',
    checkpoint_line: 0, file_path: null, file_bytes: null, file_sha256: null, lease_owner: null, lease_expires_at: null,
  }).execute();
  return id;
}

export interface ImportOptions {
  tenantId: string;
  listId: string;
  format: 'csv' | 'xlsx';
  /** The file: a path, or a stream copied to a temporary file first (a file stream is read from its file). */
  file?: string;
  source?: Readable;
  fileName?: string | null;
  /** Status of addresses new on the list: subscribed (default) or unconfirmed. */
  status?: NewMemberStatus;
  /** Called after every committed batch. */
  onProgress?: (p: ImportProgress) => void;
  /** An import record made beforehand with createImport. */
  importId?: string;
  /** Limits and worker settings (the configuration's `imports`); defaults when absent. */
  config?: ImportConfig;
  /** Lease owner; by default this process. */
  nodeId?: string;
  /** Lease owners known to be gone, whose `running` import may be taken over at once. */
  staleOwners?: string[];
}

/** A file stream not yet read from: its file can be read directly. */
function pathOf(source: Readable): string | null {
  const s = source as Partial<fs.ReadStream> & { start?: number };
  return source instanceof fs.ReadStream && typeof s.path === 'string' && !s.start && s.bytesRead === 0 ? s.path : null;
}

/**
 * Imports a CSV or XLSX file into a list in one call (the CLI and tests; the HTTP API goes
 * through Importer, which keeps uploads for resumes): see runImport. Throws the reason when the
 * import fails; the import record says the same.
 */
export async function importSubscribers(store: Store, actor: Actor, opts: ImportOptions): Promise<ImportReport> {
  assertAccess(actor, opts.tenantId, true);
  const config = opts.config ?? importConfig();
  const importId = opts.importId ?? await createImport(store, actor, opts);
  let temp: string | null = null;
  try {
    let file: ImportFile;
    const direct = opts.file ?? (opts.source ? pathOf(opts.source) : null);
    if (direct) {
      opts.source?.destroy();
      file = await describeFile(direct, config);
    } else if (opts.source) {
      temp = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-import-'));
      file = await spool(opts.source, path.join(temp, `${importId}.${opts.format}`), config, false);
    } else throw invalid('no file to import', [{ field: 'file', message: 'missing' }]);
    return await runImport(store, actor, opts.tenantId, importId, { nodeId: opts.nodeId ?? processNodeId('cli'), config, file, status: opts.status, onProgress: opts.onProgress, staleOwners: opts.staleOwners });
  } catch (err) {
    // A file refused before its run started (too large, unreadable) still ends the import.
    await failPending(store, importId, err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    if (temp) fs.rmSync(temp, { recursive: true, force: true });
  }
}

/** Marks an import that never started as failed with the reason. */
export async function failPending(store: Store, importId: string, message: string): Promise<void> {
  const now = Date.now();
  await store.db.updateTable('subscriber_imports').set({ status: 'failed', message, finished_at: now, updated_at: now })
    .where('id', '=', importId).where('status', '=', 'pending').execute();
}

/** This process as a lease owner: the node name (FANOUT_NODE_ID or the host name), and for the CLI its pid. */
export function processNodeId(kind: 'server' | 'cli'): string {
  const node = process.env.FANOUT_NODE_ID ?? os.hostname();
  return kind === 'server' ? node : `${node}:cli:${process.pid}`;
}

/** A lease owner that is a CLI process of this host which no longer exists. */
export function isDeadLocalCli(owner: string | null): boolean {
  const m = owner ? /^(.*):cli:(\d+)$/.exec(owner) : null;
  if (!m || m[1] !== (process.env.FANOUT_NODE_ID ?? os.hostname()) || Number(m[2]) === process.pid) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface ImportView {
  id: string;
  listId: string;
  format: string;
  fileName: string | null;
  status: ImportStatus;
  newStatus: MemberStatus;
  rowsRead: number;
  imported: number;
  updated: number;
  duplicates: number;
  errorCount: number;
  errors: LineError[];
  message: string | null;
  /** Every record up to this line is committed; a resume continues after it. */
  checkpointLine: number;
  /** The uploaded file is kept: POST /resume needs no new upload. */
  fileKept: boolean;
  /** The node working it, while running. */
  node: string | null;
  createdBy: string;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

function view(r: SubscriberImportTable, withErrors = true): ImportView {
  return {
    id: r.id, listId: r.list_id, format: r.format, fileName: r.file_name, status: r.status, newStatus: r.new_status, rowsRead: Number(r.rows_read),
    imported: Number(r.imported), updated: Number(r.updated), duplicates: Number(r.duplicates), errorCount: Number(r.error_count),
    errors: withErrors ? JSON.parse(r.errors) as LineError[] : [], message: r.message, checkpointLine: Number(r.checkpoint_line), fileKept: r.file_path !== null,
    node: r.status === 'running' ? r.lease_owner : null, createdBy: r.created_by, startedAt: r.started_at, updatedAt: r.updated_at, finishedAt: r.finished_at,
  };
}

/** An import's progress or outcome, for the API, the CLI and the console. */
export async function getImport(store: Store, actor: Actor, tenantId: string, importId: string): Promise<ImportView> {
  assertAccess(actor, tenantId, false);
  const r = await store.db.selectFrom('subscriber_imports').selectAll().where('id', '=', importId).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!r) throw notFound('import');
  return view(r);
}

/** The tenant's imports, newest first (without their per-line errors). */
export async function listImports(store: Store, actor: Actor, tenantId: string, filter: { listId?: string; status?: ImportStatus; limit?: number } = {}): Promise<ImportView[]> {
  assertAccess(actor, tenantId, false);
  let q = store.db.selectFrom('subscriber_imports').selectAll().where('tenant_id', '=', tenantId);
  if (filter.listId) q = q.where('list_id', '=', filter.listId);
  if (filter.status) q = q.where('status', '=', filter.status);
  const rows = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(filter.limit ?? 100).execute();
  return rows.map((r) => view(r, false));
}

/**
 * Discards an import that has not completed: it will not be resumed, its kept file is deleted,
 * and a node still working it stops at its next batch. Rows committed before stay on the list
 * (each was a valid row). Returns the kept file's path, for the caller to stop a local run first.
 */
export async function discardImport(store: Store, actor: Actor, tenantId: string, importId: string): Promise<ImportView> {
  assertAccess(actor, tenantId, true);
  const file = await store.transaction(async (trx) => {
    const r = await trx.selectFrom('subscriber_imports').selectAll().where('id', '=', importId).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!r) throw notFound('import');
    if (r.status === 'discarded') return null;
    if (r.status === 'completed') throw conflict('the import has completed: its rows are on the list and there is nothing to discard');
    const now = Date.now();
    await trx.updateTable('subscriber_imports').set({ status: 'discarded', finished_at: now, updated_at: now, lease_owner: null, lease_expires_at: null, file_path: null })
      .where('id', '=', importId).where('status', '=', r.status).execute();
    await recordOperation(trx, actor, {
      operation: 'subscriber.import.discard', objectType: 'list', objectId: r.list_id, tenantId,
      description: `discarded import ${importId} (${r.status}, ${r.imported} added and ${r.updated} updated before)`,
      details: { importId, previousStatus: r.status, checkpointLine: r.checkpoint_line, imported: r.imported, updated: r.updated },
    });
    return r.file_path;
  });
  if (file) fs.rmSync(file, { force: true });
  return getImport(store, actor, tenantId, importId);
}
