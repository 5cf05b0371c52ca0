import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { CliContext, ContextOpener, GlobalOptions } from '../cli/context.ts';
import { AppError, notFound } from '../core/errors.ts';
import type { Executor } from '../store/store.ts';
import { resolveTenant } from '../tenants/service.ts';
import { exportSubscribers } from './export.ts';
import { createImport, discardImport, getImport, importSubscribers, isDeadLocalCli, listImports } from './import/import.ts';
import type { ImportProgress, ImportReport } from './import/import.ts';
import { createList, listLists } from './lists.ts';
import { MEMBER_STATUSES } from './tables.ts';
import type { MemberStatus } from './tables.ts';

export interface SubscriberCommandOptions {
  /** Opens the store and configuration for one command; tests pass their own. */
  context: ContextOpener;
  /** Where result lines go (console.log by default). */
  print?: (line: string) => void;
  /** Where the progress bar goes (stderr by default); `tty` redraws one line in place. */
  progress?: { write: (s: string) => void; tty: boolean };
}

async function resolveList(db: Executor, tenantId: string, ref: string) {
  const row = await db.selectFrom('subscriber_lists').selectAll().where('tenant_id', '=', tenantId)
    .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)])).executeTakeFirst();
  if (!row) throw notFound(`list "${ref}"`);
  return row;
}

function formatOf(file: string, given?: string): 'csv' | 'xlsx' {
  const f = given ?? (path.extname(file).toLowerCase() === '.xlsx' ? 'xlsx' : 'csv');
  if (f !== 'csv' && f !== 'xlsx') throw new InvalidArgumentError('expected csv or xlsx');
  return f;
}

const n = (x: number) => x.toLocaleString('en');

function table(rows: Record<string, unknown>[], columns: string[], print: (line: string) => void): void {
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '-')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  print(line(columns.map((c) => c.toUpperCase())));
  for (const row of cells) print(line(row));
}

/** One progress line: a bar by bytes read, rows, rate and what became of them. */
export function progressLine(p: ImportProgress, totalBytes: number, elapsedMs: number): string {
  const frac = totalBytes > 0 ? Math.min(1, p.bytesRead / totalBytes) : 0;
  const width = 30;
  const filled = Math.round(frac * width);
  const rate = elapsedMs > 0 ? Math.round((p.rowsRead * 1000) / elapsedMs) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${n(p.rowsRead)} rows  ${n(rate)}/s  `
    + `added ${n(p.imported)}  updated ${n(p.updated)}  duplicates ${n(p.duplicates)}  errors ${n(p.errorCount)}`;
}

export function registerSubscriberCommands(program: Command, options: SubscriberCommandOptions): void {
  const globals = () => program.opts<GlobalOptions>();
  const run = options.context;
  const print = options.print ?? ((line: string) => console.log(line));
  const progress = options.progress ?? { write: (s: string) => process.stderr.write(s), tty: process.stderr.isTTY === true };

  const lists = program.command('lists').description('subscriber lists');
  lists.command('create').description('create a list').requiredOption('--tenant <tenant>', 'tenant name or id').requiredOption('--name <name>', 'list name')
    .option('--double-opt-in', 'subscriptions by API or form stay unconfirmed until the mailed link is clicked')
    .action((o: { tenant: string; name: string; doubleOptIn?: boolean }) => run(globals(), async ({ store, actor }) => {
      const tenant = await resolveTenant(store.db, o.tenant);
      const l = await createList(store, actor, { tenantId: tenant.id, name: o.name, doubleOptIn: o.doubleOptIn === true });
      print(l.id);
    }));
  lists.command('list').description('the tenant\'s lists with member counts').requiredOption('--tenant <tenant>', 'tenant name or id')
    .action((o: { tenant: string }) => run(globals(), async ({ store, actor }) => {
      const tenant = await resolveTenant(store.db, o.tenant);
      const items = await listLists(store, actor, tenant.id);
      table(items.map((l) => ({ id: l.id, name: l.name, doubleOptIn: l.doubleOptIn, ...l.counts })), ['id', 'name', 'doubleOptIn', ...MEMBER_STATUSES], print);
    }));

  /** Runs (or resumes) an import of a file with the progress bar; prints the errors and the totals. */
  const runWithProgress = async (ctx: CliContext, file: string, job: { tenantId: string; listId: string; format: 'csv' | 'xlsx'; importId: string; status?: 'subscribed' | 'unconfirmed'; staleOwners?: string[] }, errorsFile?: string) => {
    const total = fs.statSync(file).size;
    const started = Date.now();
    let lastDraw = 0;
    let lastTenth = -1;
    let report: ImportReport;
    try {
      report = await importSubscribers(ctx.store, ctx.actor, {
        ...job, file, config: ctx.config.imports,
        onProgress: (p) => {
          const now = Date.now();
          if (progress.tty) {
            // Redraw at most ten times a second: a terminal is slower than the importer.
            if (now - lastDraw >= 100) progress.write(`\r${progressLine(p, total, now - started)}`);
            lastDraw = now;
          } else {
            const tenth = Math.floor((p.bytesRead / Math.max(total, 1)) * 10);
            if (tenth > lastTenth) progress.write(`${progressLine(p, total, now - started)}\n`);
            lastTenth = tenth;
          }
        },
      });
    } catch (err) {
      if (progress.tty && lastDraw) progress.write('\n');
      if (!(err instanceof AppError)) throw err;
      const v = await getImport(ctx.store, ctx.actor, job.tenantId, job.importId);
      const resume = v.status === 'failed' ? `; resume with: fanout subscribers imports resume ${job.importId} --file ${JSON.stringify(file)}` : '';
      throw new AppError(err.kind, `import ${job.importId} failed: ${err.message}${resume}`, { problems: err.problems });
    }
    const final = progressLine(report, total, report.durationMs);
    progress.write(progress.tty ? `\r${final}\n` : `${final}\n`);
    for (const e of report.errors) print(`line ${e.line}: ${e.reason}`);
    if (report.errorsTruncated) print(`... and ${n(report.errorCount - report.errors.length)} more errors`);
    if (errorsFile) fs.writeFileSync(errorsFile, `line,reason\n${report.errors.map((e) => `${e.line},"${e.reason.replace(/"/g, '""')}"`).join('\n')}\n`);
    print(`import ${report.importId}: ${n(report.rowsRead)} rows read, ${n(report.imported)} added, ${n(report.updated)} updated, ${n(report.duplicates)} duplicates, ${n(report.errorCount)} errors in ${(report.durationMs / 1000).toFixed(1)} s`);
  };

  const subs = program.command('subscribers').description('import and export list members');
  subs.command('import').description('import a CSV or XLSX file into a list, with a progress bar; per-line errors are listed at the end')
    .requiredOption('--tenant <tenant>', 'tenant name or id').requiredOption('--list <list>', 'list name or id').argument('<file>', 'CSV (UTF-8) or XLSX file')
    .option('--format <format>', 'csv or xlsx (default: by the file extension)').option('--unconfirmed', 'add new addresses as unconfirmed rather than subscribed')
    .option('--errors <file>', 'also write the per-line errors to this CSV file')
    .action((file: string, o: { tenant: string; list: string; format?: string; unconfirmed?: boolean; errors?: string }) => run(globals(), async (ctx) => {
      const format = formatOf(file, o.format);
      const tenant = await resolveTenant(ctx.store.db, o.tenant);
      const list = await resolveList(ctx.store.db, tenant.id, o.list);
      const status = o.unconfirmed ? 'unconfirmed' as const : 'subscribed' as const;
      const importId = await createImport(ctx.store, ctx.actor, { tenantId: tenant.id, listId: list.id, format, fileName: path.basename(file), status });
      await runWithProgress(ctx, file, { tenantId: tenant.id, listId: list.id, format, importId, status }, o.errors);
    }));

  const imports = subs.command('imports').description('imports: list, show, resume after a failure, discard');
  const findImport = async (ctx: CliContext, id: string) => {
    const row = await ctx.store.db.selectFrom('subscriber_imports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`import "${id}"`);
    return row;
  };
  imports.command('list').description('a tenant\'s imports, newest first').requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--status <status>', 'pending, running, completed, failed or discarded')
    .action((o: { tenant: string; status?: string }) => run(globals(), async ({ store, actor }) => {
      const tenant = await resolveTenant(store.db, o.tenant);
      const items = await listImports(store, actor, tenant.id, { status: o.status as 'failed' | undefined });
      table(items.map((i) => ({ ...i, started: new Date(i.startedAt).toISOString().slice(0, 19), line: i.checkpointLine })),
        ['id', 'status', 'format', 'fileName', 'rowsRead', 'imported', 'errorCount', 'line', 'started', 'message'], print);
    }));
  imports.command('show').description('one import with its progress and per-line errors').argument('<id>', 'import id')
    .action((id: string) => run(globals(), async (ctx) => {
      const job = await findImport(ctx, id);
      print(JSON.stringify(await getImport(ctx.store, ctx.actor, job.tenant_id, id), null, 2));
    }));
  imports.command('resume').description('resume a failed (or abandoned) import after its last committed line, with the same file')
    .argument('<id>', 'import id').option('--file <file>', 'the file the import started with (default: the upload kept by the server, when on this machine)')
    .option('--errors <file>', 'also write the per-line errors to this CSV file')
    .action((id: string, o: { file?: string; errors?: string }) => run(globals(), async (ctx) => {
      const job = await findImport(ctx, id);
      const file = o.file ?? (job.file_path && fs.existsSync(job.file_path) ? job.file_path : null);
      if (!file) throw new AppError('validation', `give the file the import started with: --file FILE (it resumes after line ${job.checkpoint_line})`);
      // A CLI run of this host that died holds a lease nobody renews: it is free at once.
      const staleOwners = isDeadLocalCli(job.lease_owner) ? [job.lease_owner!] : [];
      await runWithProgress(ctx, file, { tenantId: job.tenant_id, listId: job.list_id, format: job.format as 'csv' | 'xlsx', importId: id, staleOwners }, o.errors);
    }));
  imports.command('discard').description('discard an import that has not completed (rows committed before stay on the list)').argument('<id>', 'import id')
    .action((id: string) => run(globals(), async (ctx) => {
      const job = await findImport(ctx, id);
      const v = await discardImport(ctx.store, ctx.actor, job.tenant_id, id);
      print(`import ${id}: ${v.status}`);
    }));

  subs.command('export').description('export a list to CSV or XLSX (formula cells neutralised)')
    .requiredOption('--tenant <tenant>', 'tenant name or id').requiredOption('--list <list>', 'list name or id').requiredOption('--out <file>', 'file to write')
    .option('--format <format>', 'csv or xlsx (default: by the file extension)').option('--status <status>', `only members with this status (${MEMBER_STATUSES.join(', ')})`)
    .action((o: { tenant: string; list: string; out: string; format?: string; status?: string }) => run(globals(), async ({ store, actor }) => {
      const tenant = await resolveTenant(store.db, o.tenant);
      const list = await resolveList(store.db, tenant.id, o.list);
      const out = await exportSubscribers(store, actor, { tenantId: tenant.id, listId: list.id, format: formatOf(o.out, o.format), status: o.status as MemberStatus | undefined });
      await pipeline(out.stream, fs.createWriteStream(o.out));
      print(`wrote ${o.out}`);
    }));
}
