import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Actor } from '../../audit/index.ts';
import { recordOperation } from '../../audit/index.ts';
import { AppError, conflict } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { ImportConfig } from '../config.ts';
import { assertAccess } from '../db.ts';
import { discardImport, failPending, getImport } from './import.ts';
import type { ImportView, NewMemberStatus } from './import.ts';
import { fmt, limitExceeded } from './limits.ts';
import { ImportStopped, abandonImport, runImport } from './run.ts';
import type { ImportReport } from './run.ts';
import { spool, spoolDir } from './spool.ts';
import type { ImportFile } from './spool.ts';

const SYSTEM: Actor = { operator: 'system', clientIp: 'local', role: 'system' };

export interface ImporterOptions {
  config: ImportConfig;
  dataDir: string;
  /** Lease owner name of this node. */
  nodeId: string;
  log?: { warn(obj: object, msg: string): void };
}

/**
 * Runs the imports of one server node: uploads are kept in the data folder (so a failed or
 * interrupted import can resume without a new upload) and parsed in worker threads, at most
 * imports.maxConcurrent at once; a poll takes over imports whose node stopped (its lease
 * expired, or at start-up this node's own) and resumes them from their checkpoint when their
 * file is here, or marks them failed; kept files of failed imports are deleted after
 * imports.keepFailedHours.
 */
export class Importer {
  readonly #store: Store;
  readonly #opts: ImporterOptions;
  readonly #active = new Map<string, AbortController>();
  readonly #runs = new Set<Promise<unknown>>();
  #busy = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(store: Store, opts: ImporterOptions) {
    this.#store = store;
    this.#opts = opts;
  }

  get config(): ImportConfig {
    return this.#opts.config;
  }

  /** Recovers at once (this node's leases are stale: it has just started), then polls. */
  start(): void {
    const poll = async (startup: boolean) => {
      try {
        await this.recover(startup);
      } catch (err) {
        this.#opts.log?.warn({ err }, 'import recovery failed; retrying');
      }
    };
    void poll(true);
    this.#timer = setInterval(() => void poll(false), Math.max(1000, (this.#opts.config.leaseSeconds * 1000) / 2));
    this.#timer.unref();
  }

  /** Stops local runs (they stay `running` with their lease handed back, to resume on restart). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const c of this.#active.values()) c.abort();
    await Promise.allSettled([...this.#runs]);
  }

  #slot(): () => void {
    if (this.#stopped) throw new AppError('unavailable', 'the server is shutting down', { retryAfterSeconds: 30 });
    if (this.#busy >= this.#opts.config.maxConcurrent) {
      throw new AppError('rate_limited', `${fmt(this.#busy)} imports are being read on this node (limit imports.maxConcurrent = ${fmt(this.#opts.config.maxConcurrent)}); send the file again in a minute`, { retryAfterSeconds: 30 });
    }
    this.#busy++;
    let released = false;
    return () => {
      if (!released) this.#busy--;
      released = true;
    };
  }

  async #run(actor: Actor, tenantId: string, importId: string, file: ImportFile, extra: { status?: NewMemberStatus; staleOwners?: string[]; onStarted?: () => void; previous?: string | null }): Promise<ImportReport> {
    const control = new AbortController();
    this.#active.set(importId, control);
    const run = runImport(this.#store, actor, tenantId, importId, { nodeId: this.#opts.nodeId, config: this.#opts.config, file, signal: control.signal, ...extra });
    this.#runs.add(run);
    try {
      return await run;
    } finally {
      this.#runs.delete(run);
      this.#active.delete(importId);
      // Keep only the file the import record still points at (a re-upload replaces the kept one).
      const row = await this.#store.db.selectFrom('subscriber_imports').select('file_path').where('id', '=', importId).executeTakeFirst().catch(() => undefined);
      if (row) for (const f of [file.path, extra.previous]) if (f && row.file_path !== f) fs.rmSync(f, { force: true });
    }
  }

  /**
   * The upload of a pending import, or of a failed one again to resume it (the same file): kept
   * in the data folder as it arrives (at most imports.maxFileBytes), then imported; answers the
   * report when the import ends.
   */
  async upload(actor: Actor, tenantId: string, importId: string, body: Readable, opts: { contentLength?: number; status?: NewMemberStatus } = {}): Promise<ImportReport> {
    const job = await getImport(this.#store, actor, tenantId, importId);
    assertAccess(actor, tenantId, true);
    if (job.status !== 'pending' && job.status !== 'failed') throw conflict(job.status === 'running' ? `the import is running (on ${job.node ?? 'another node'})` : `the import has ${job.status === 'completed' ? 'completed' : 'been discarded'}`);
    const limits = this.#opts.config;
    if (opts.contentLength !== undefined && opts.contentLength > limits.maxFileBytes) {
      const err = limitExceeded(limits, 'maxFileBytes', `the file is ${fmt(opts.contentLength)} bytes, larger than the limit`, null, ' bytes');
      await failPending(this.#store, importId, err.message);
      throw err;
    }
    const release = this.#slot();
    try {
      const target = path.join(spoolDir(this.#opts.dataDir), `${importId}-${randomBytes(4).toString('hex')}.${job.format}`);
      let file: ImportFile;
      try {
        file = await spool(body, target, limits, true);
      } catch (err) {
        if (err instanceof AppError) await failPending(this.#store, importId, err.message);
        throw err;
      }
      const previous = (await this.#store.db.selectFrom('subscriber_imports').select('file_path').where('id', '=', importId).executeTakeFirst())?.file_path;
      return await this.#run(actor, tenantId, importId, file, { status: opts.status, previous });
    } finally {
      release();
    }
  }

  /** Resumes a failed import from its kept file, after its checkpoint; answers once it is running. */
  async resume(actor: Actor, tenantId: string, importId: string): Promise<ImportView> {
    assertAccess(actor, tenantId, true);
    const job = await this.#store.db.selectFrom('subscriber_imports').selectAll().where('id', '=', importId).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!job) return getImport(this.#store, actor, tenantId, importId);
    if (job.status !== 'failed') throw conflict(`only a failed import can be resumed; this one is ${job.status}`);
    if (!job.file_path || !job.file_sha256 || !fs.existsSync(job.file_path)) {
      throw conflict(`the file of this import is not kept on this node: send it again (PUT /api/v1/tenants/${tenantId}/imports/${importId}/file) to resume after line ${job.checkpoint_line}`);
    }
    const release = this.#slot();
    const file: ImportFile = { path: job.file_path, bytes: Number(job.file_bytes), sha256: job.file_sha256, kept: true };
    await this.#store.transaction((trx) => recordOperation(trx, actor, {
      operation: 'subscriber.import.resume', objectType: 'list', objectId: job.list_id, tenantId,
      description: `resumed import ${importId} after line ${job.checkpoint_line}`, details: { importId, checkpointLine: job.checkpoint_line },
    }));
    // Answers once the run has started: a refusal before that is the caller's to hear, the
    // outcome after it is the import's to record.
    await new Promise<void>((resolve, reject) => {
      this.#run(actor, tenantId, importId, file, { onStarted: resolve }).catch(reject).finally(release);
    });
    return getImport(this.#store, actor, tenantId, importId);
  }

  /** Discards an import; a run of it on this node stops now, on another node at its next batch. */
  async discard(actor: Actor, tenantId: string, importId: string): Promise<ImportView> {
    const v = await discardImport(this.#store, actor, tenantId, importId);
    this.#active.get(importId)?.abort(new ImportStopped('conflict', 'the import was discarded while it ran'));
    return v;
  }

  /**
   * Imports whose node stopped: resumed here when their file is here (a kept upload in a shared
   * or this node's data folder), otherwise marked failed with the line to resume after, at once
   * when no file was kept (a CLI run), or after ten leases when it is kept on another node that
   * may come back for it. Also deletes kept files of imports failed long ago.
   */
  async recover(startup = false): Promise<void> {
    const now = Date.now();
    const leaseMs = this.#opts.config.leaseSeconds * 1000;
    const stale = await this.#store.db.selectFrom('subscriber_imports').selectAll().where('status', '=', 'running')
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now), ...(startup ? [eb('lease_owner', '=', this.#opts.nodeId)] : [])]))
      .limit(50).execute();
    for (const job of stale) {
      if (this.#stopped || this.#active.has(job.id)) continue;
      if (job.file_path && job.file_sha256 && fs.existsSync(job.file_path)) {
        let release: () => void;
        try {
          release = this.#slot();
        } catch {
          continue;
        }
        const file: ImportFile = { path: job.file_path, bytes: Number(job.file_bytes), sha256: job.file_sha256, kept: true };
        const run = this.#run(SYSTEM, job.tenant_id, job.id, file, { staleOwners: startup ? [this.#opts.nodeId] : [] }).catch((err: unknown) => {
          if (!(err instanceof ImportStopped)) this.#opts.log?.warn({ err, importId: job.id }, 'resumed import failed');
        }).finally(release);
        this.#runs.add(run);
        void run.finally(() => this.#runs.delete(run));
        continue;
      }
      const expiredFor = now - (job.lease_expires_at ?? 0);
      if (job.file_path && !(startup && job.lease_owner === this.#opts.nodeId) && expiredFor < 10 * leaseMs) continue;
      const who = job.lease_owner ?? 'an earlier version';
      await abandonImport(this.#store, job, `the node working it (${who}) stopped after line ${job.checkpoint_line}, and its file is not on this node: send the same file again to resume after that line`);
    }
    if (startup) await this.#removeStrayFiles(now);
    const old = now - this.#opts.config.keepFailedHours * 3_600_000;
    const expired = await this.#store.db.selectFrom('subscriber_imports').select(['id', 'file_path']).where('status', '=', 'failed')
      .where('file_path', 'is not', null).where('finished_at', '<', old).limit(100).execute();
    for (const r of expired) {
      await this.#store.db.updateTable('subscriber_imports').set({ file_path: null }).where('id', '=', r.id).where('status', '=', 'failed').execute();
      if (r.file_path && path.dirname(r.file_path) === spoolDir(this.#opts.dataDir)) fs.rmSync(r.file_path, { force: true });
    }
  }

  /** Uploads no import points at (a process stopped between receiving and starting one), after an hour. */
  async #removeStrayFiles(now: number): Promise<void> {
    const dir = spoolDir(this.#opts.dataDir);
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      const id = name.split('-')[0]!;
      if (now - fs.statSync(file).mtimeMs < 3_600_000) continue;
      const row = await this.#store.db.selectFrom('subscriber_imports').select('file_path').where('id', '=', id).executeTakeFirst();
      if (row?.file_path !== file) fs.rmSync(file, { force: true });
    }
  }
}
