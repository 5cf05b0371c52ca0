import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { withContext } from '../cli/context.ts';
import type { CliContext, GlobalOptions } from '../cli/context.ts';
import { notFound } from '../core/errors.ts';
import type { Executor } from '../store/store.ts';
import { resolveTenant } from '../tenants/service.ts';
import { exportSubscribers } from './export.ts';
import { importSubscribers } from './import/import.ts';
import type { ImportProgress } from './import/import.ts';
import { createList, listLists } from './lists.ts';
import { MEMBER_STATUSES } from './tables.ts';
import type { MemberStatus } from './tables.ts';

export interface SubscriberCommandOptions {
  /** Opens the store and configuration for one command; tests pass their own. */
  context?: <T>(globals: GlobalOptions, fn: (ctx: CliContext) => Promise<T>) => Promise<T>;
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

export function registerSubscriberCommands(program: Command, options: SubscriberCommandOptions = {}): void {
  const globals = () => program.opts<GlobalOptions>();
  const run = options.context ?? withContext;
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

  const subs = program.command('subscribers').description('import and export list members');
  subs.command('import').description('import a CSV or XLSX file into a list, with a progress bar; per-line errors are listed at the end')
    .requiredOption('--tenant <tenant>', 'tenant name or id').requiredOption('--list <list>', 'list name or id').argument('<file>', 'CSV (UTF-8) or XLSX file')
    .option('--format <format>', 'csv or xlsx (default: by the file extension)').option('--unconfirmed', 'add new addresses as unconfirmed rather than subscribed')
    .option('--errors <file>', 'also write the per-line errors to this CSV file')
    .action((file: string, o: { tenant: string; list: string; format?: string; unconfirmed?: boolean; errors?: string }) => run(globals(), async ({ store, actor }) => {
      const format = formatOf(file, o.format);
      const tenant = await resolveTenant(store.db, o.tenant);
      const list = await resolveList(store.db, tenant.id, o.list);
      const total = fs.statSync(file).size;
      const started = Date.now();
      let lastDraw = 0;
      let lastTenth = -1;
      const report = await importSubscribers(store, actor, {
        tenantId: tenant.id, listId: list.id, format, fileName: path.basename(file), status: o.unconfirmed ? 'unconfirmed' : 'subscribed',
        source: fs.createReadStream(file, { highWaterMark: 256 * 1024 }),
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
      const final = progressLine(report, total, report.durationMs);
      progress.write(progress.tty ? `\r${final}\n` : `${final}\n`);
      for (const e of report.errors) print(`line ${e.line}: ${e.reason}`);
      if (report.errorsTruncated) print(`... and ${n(report.errorCount - report.errors.length)} more errors`);
      if (o.errors) fs.writeFileSync(o.errors, `line,reason\n${report.errors.map((e) => `${e.line},"${e.reason.replace(/"/g, '""')}"`).join('\n')}\n`);
      print(`import ${report.importId}: ${n(report.rowsRead)} rows read, ${n(report.imported)} added, ${n(report.updated)} updated, ${n(report.duplicates)} duplicates, ${n(report.errorCount)} errors in ${(report.durationMs / 1000).toFixed(1)} s`);
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
