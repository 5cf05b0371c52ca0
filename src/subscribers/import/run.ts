import fs from 'node:fs';
import type { Actor } from '../../audit/index.ts';
import { recordOperation } from '../../audit/index.ts';
import { AppError, conflict, notFound } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { ImportConfig } from '../config.ts';
import { assertAccess } from '../db.ts';
import { requireList } from '../lists.ts';
import type { SubscriberImportTable } from '../tables.ts';
import { parseInWorker } from './parse-client.ts';
import type { LineError, ParsedBatch } from './rows.ts';
import type { ImportFile } from './spool.ts';
import { batchWriter } from './writer.ts';

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

export interface ImportReport extends ImportProgress {
  status: 'completed' | 'failed';
  errors: LineError[];
  /** True when more errors happened than `errors` holds (see errorCount). */
  errorsTruncated: boolean;
  message: string | null;
  durationMs: number;
}

export interface RunOptions {
  /** Lease owner: the node (or CLI process) working the import. */
  nodeId: string;
  config: ImportConfig;
  file: ImportFile;
  /** Status of addresses new on the list, on a first run (a resume keeps the first run's). */
  status?: 'subscribed' | 'unconfirmed';
  onProgress?: (p: ImportProgress) => void;
  /** Stops the run (shutdown, discard) without failing it: it stays resumable. */
  signal?: AbortSignal;
  /** Lease owners known to be gone (this node at its start-up, a CLI process that died): their leases are free. */
  staleOwners?: string[];
  /** Called once the import is claimed (running under this node's lease). */
  onStarted?: () => void;
}

/** A run stopped without failing: discarded, taken over, or the node shutting down. */
export class ImportStopped extends AppError {}

type Job = SubscriberImportTable;

async function claim(store: Store, job: Job, opts: RunOptions, now: number): Promise<boolean> {
  const res = await store.db.updateTable('subscriber_imports').set({
    status: 'running', lease_owner: opts.nodeId, lease_expires_at: now + opts.config.leaseSeconds * 1000, message: null, finished_at: null, updated_at: now,
    file_sha256: opts.file.sha256, file_bytes: opts.file.bytes,
    ...(opts.file.kept ? { file_path: opts.file.path } : {}),
    ...(job.status === 'pending' && opts.status ? { new_status: opts.status } : {}),
  }).where('id', '=', job.id).where('status', '=', job.status)
    // Pending and failed imports may start; a running one only when its node is gone.
    .where((eb) => eb.or([
      eb('status', 'in', ['pending', 'failed']),
      eb.and([eb('status', '=', 'running'), eb.or([
        eb('lease_expires_at', 'is', null),
        eb('lease_expires_at', '<', now),
        ...(opts.staleOwners ?? []).map((owner) => eb('lease_owner', '=', owner)),
      ])]),
    ])).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

function refusal(job: Job): AppError {
  if (job.status === 'running') return conflict(`the import is running (on ${job.lease_owner ?? 'another node'})`);
  if (job.status === 'completed') return conflict('the import has completed');
  if (job.status === 'discarded') return conflict('the import was discarded');
  return conflict('the import changed while it was being started; try again');
}

/**
 * Runs an import, or resumes it after its last committed line: claims it with a lease (one
 * node works an import), parses the file in a worker (parse-client.ts) and writes each batch in
 * one transaction with its checkpoint, counts and lease renewal, so a crash leaves a consistent
 * state that a resume continues exactly. A failure of the file or of the run leaves the import
 * `failed` with the reason and throws it; an upload is kept for a resume only when the failure
 * was not the file's (the store, a crash). A stop (signal, discard, lost lease) leaves it as is.
 */
export async function runImport(store: Store, actor: Actor, tenantId: string, importId: string, opts: RunOptions): Promise<ImportReport> {
  const started = Date.now();
  assertAccess(actor, tenantId, true);
  const job = await store.db.selectFrom('subscriber_imports').selectAll().where('id', '=', importId).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!job) throw notFound('import');
  if (job.file_sha256 && job.file_sha256 !== opts.file.sha256) {
    throw conflict('this is not the file the import started with (its SHA-256 differs); resume with that file, or start a new import');
  }
  if (!(await claim(store, job, opts, Date.now()))) {
    throw refusal(await store.db.selectFrom('subscriber_imports').selectAll().where('id', '=', importId).executeTakeFirstOrThrow());
  }
  opts.onStarted?.();
  const leaseMs = opts.config.leaseSeconds * 1000;
  const progress: ImportProgress = {
    importId, rowsRead: job.rows_read, imported: job.imported, updated: job.updated, duplicates: job.duplicates, errorCount: job.error_count, bytesRead: 0,
  };
  const errors = JSON.parse(job.errors) as LineError[];
  let errorsWritten = errors.length;
  let checkpoint = job.checkpoint_line;
  const held = async (db: Store['db'], now: number) => {
    const r = await db.updateTable('subscriber_imports').set({ lease_expires_at: now + leaseMs }).where('id', '=', importId)
      .where('status', '=', 'running').where('lease_owner', '=', opts.nodeId).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  };
  // Stops the worker on a shutdown, or when the lease is found gone (discarded, taken over).
  const stop = new AbortController();
  const lost = () => new ImportStopped('conflict', 'the import was discarded or taken over by another node');
  const onAbort = () => stop.abort(opts.signal?.reason instanceof ImportStopped ? opts.signal.reason
    : new ImportStopped('unavailable', `the import was stopped on ${opts.nodeId} (shutting down); it resumes after line ${checkpoint}`, { retryAfterSeconds: 30 }));
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) onAbort();
  const heartbeat = setInterval(() => {
    held(store.db, Date.now()).then((ok) => { if (!ok) stop.abort(lost()); }, () => { /* the next batch finds out */ });
  }, Math.max(1000, leaseMs / 3));
  heartbeat.unref();

  const commit = async (writeBatch: ReturnType<typeof batchWriter>, batch: ParsedBatch) => {
    const next = { ...progress };
    const reported = errors.length;
    await store.transaction(async (trx) => {
      const now = Date.now();
      if (!(await held(trx, now))) throw lost();
      const c = batch.rows.length ? await writeBatch(trx, batch.rows, now) : { imported: 0, updated: 0, duplicates: 0 };
      next.imported += c.imported;
      next.updated += c.updated;
      next.duplicates += c.duplicates + batch.duplicates;
      next.rowsRead += batch.rowsRead;
      next.errorCount += batch.errors.length;
      next.bytesRead = batch.bytesRead;
      for (const e of batch.errors) if (errors.length < MAX_REPORTED_ERRORS) errors.push(e);
      await trx.updateTable('subscriber_imports').set({
        ...counters(next, now), checkpoint_line: Math.max(batch.endLine, checkpoint),
        // The error list is rewritten only while it grows (it stops at MAX_REPORTED_ERRORS).
        ...(errors.length !== errorsWritten ? { errors: JSON.stringify(errors) } : {}),
      }).where('id', '=', importId).execute();
    }).catch((err: unknown) => {
      errors.length = reported;
      throw err;
    });
    Object.assign(progress, next);
    errorsWritten = errors.length;
    checkpoint = Math.max(batch.endLine, checkpoint);
    opts.onProgress?.({ ...progress });
  };

  let listName = job.list_id;
  try {
    listName = (await requireList(store.db, tenantId, job.list_id)).name;
    const writeBatch = batchWriter(store, { importId, tenantId, listId: job.list_id, status: job.status === 'pending' && opts.status ? opts.status : job.new_status });
    const parse = parseInWorker({ file: opts.file.path, format: job.format as 'csv' | 'xlsx', limits: opts.config, skipThroughLine: checkpoint, nice: opts.config.workerNice }, opts.config.workerHeapMb, stop.signal);
    for await (const batch of parse) await commit(writeBatch, batch);
  } catch (err) {
    if (err instanceof ImportStopped || stop.signal.aborted) {
      // Hand the lease back at once so a restart, or another node, resumes without waiting.
      await store.db.updateTable('subscriber_imports').set({ lease_expires_at: 0 }).where('id', '=', importId).where('lease_owner', '=', opts.nodeId)
        .where('status', '=', 'running').execute().catch(() => undefined);
      throw err instanceof ImportStopped ? err : (stop.signal.reason as ImportStopped);
    }
    const message = err instanceof Error ? err.message : String(err);
    // A file refused for what it holds would be refused again: only other failures keep it.
    const keepFile = !(err instanceof AppError && (err.kind === 'validation' || err.kind === 'not_found'));
    const where = progress.rowsRead > 0 ? `stopped after ${progress.rowsRead} rows (committed through line ${checkpoint}): ` : '';
    // When the store itself is down this cannot be written either: the lease then expires and recovery takes over.
    await finish(store, actor, listName, job, opts, progress, errors, 'failed', `${where}${message}`, keepFile).catch(() => undefined);
    if (err instanceof AppError) throw err;
    throw new AppError('unavailable', `the import stopped after ${progress.rowsRead} rows: ${message}`, { cause: err });
  } finally {
    clearInterval(heartbeat);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  await finish(store, actor, listName, job, opts, progress, errors, 'completed', null, false);
  return { ...progress, status: 'completed', errors, errorsTruncated: progress.errorCount > errors.length, message: null, durationMs: Date.now() - started };
}

function counters(p: ImportProgress, now: number): Partial<Job> {
  return { rows_read: p.rowsRead, imported: p.imported, updated: p.updated, duplicates: p.duplicates, error_count: p.errorCount, updated_at: now };
}

async function finish(store: Store, actor: Actor, listName: string, job: Job, opts: RunOptions, p: ImportProgress, errors: LineError[], status: 'completed' | 'failed', message: string | null, keepFile: boolean): Promise<void> {
  const keep = keepFile && opts.file.kept;
  await store.transaction(async (trx) => {
    const now = Date.now();
    const res = await trx.updateTable('subscriber_imports').set({
      ...counters(p, now), errors: JSON.stringify(errors), status, message, finished_at: now, lease_owner: null, lease_expires_at: null,
      ...(keep ? {} : { file_path: null }),
    }).where('id', '=', job.id).where('status', '=', 'running').where('lease_owner', '=', opts.nodeId).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return;
    await recordOperation(trx, actor, {
      operation: 'subscriber.import', objectType: 'list', objectId: job.list_id, tenantId: job.tenant_id,
      description: status === 'completed'
        ? `imported ${job.format.toUpperCase()} into list ${listName}: ${p.imported} added, ${p.updated} updated, ${p.duplicates} duplicates, ${p.errorCount} errors`
        : `import into list ${listName} failed: ${message}`,
      details: { importId: job.id, fileName: job.file_name, format: job.format, status, rowsRead: p.rowsRead, imported: p.imported, updated: p.updated, duplicates: p.duplicates, errorCount: p.errorCount, message },
    });
  });
  if (!keep && opts.file.kept) fs.rmSync(opts.file.path, { force: true });
}

/**
 * Marks an import whose node stopped (its lease expired) as failed, when no node can resume it
 * here: recorded with the reason and the line to resume after, in the operation log too.
 */
export async function abandonImport(store: Store, job: Job, message: string): Promise<boolean> {
  return store.transaction(async (trx) => {
    const now = Date.now();
    const res = await trx.updateTable('subscriber_imports').set({ status: 'failed', message, finished_at: now, updated_at: now, lease_owner: null, lease_expires_at: null })
      .where('id', '=', job.id).where('status', '=', 'running')
      .where((eb) => (job.lease_expires_at === null ? eb('lease_expires_at', 'is', null) : eb('lease_expires_at', '=', job.lease_expires_at)))
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await recordOperation(trx, { operator: 'system', clientIp: 'local', role: 'system' }, {
      operation: 'subscriber.import', objectType: 'list', objectId: job.list_id, tenantId: job.tenant_id,
      description: `import ${job.id} failed: ${message}`,
      details: { importId: job.id, fileName: job.file_name, format: job.format, status: 'failed', rowsRead: job.rows_read, imported: job.imported, checkpointLine: job.checkpoint_line, message },
    });
    return true;
  });
}
