import os from 'node:os';
import type { Command } from 'commander';
import type { ContextOpener, GlobalOptions } from '../cli/context.ts';
import type { OpsDeps } from './context.ts';
import type { InspectionReport } from './inspections/history.ts';
import { runInspection } from './inspections/runner.ts';
import { sweepEscalations } from './tickets/escalation.ts';

const MARK: Record<string, string> = { ok: 'OK  ', warning: 'WARN', error: 'ERR ', unavailable: 'N/A ' };

/** The report as a terminal table: one line per check, changes at the end. */
export function printInspection(r: InspectionReport, out: (line: string) => void = (l) => console.log(l)): void {
  out(`Inspection ${r.id} (${r.kind}) ${r.startedAt} → ${r.finishedAt}: ${r.status.toUpperCase()}`);
  out(`  ${r.counts.ok} ok, ${r.counts.warning} warning, ${r.counts.error} error, ${r.counts.unavailable} unavailable`);
  const width = Math.max(...r.checks.map((c) => (c.key + (c.subject ? ` ${c.subject}` : '')).length), 10);
  for (const c of r.checks) out(`  ${MARK[c.status]} ${(c.key + (c.subject ? ` ${c.subject}` : '')).padEnd(width)}  ${c.message}`);
  if (r.previousId) {
    out(r.changes.length ? `Changes since ${r.previousId}:` : `No change since ${r.previousId}.`);
    for (const ch of r.changes) out(`  ${ch.key}${ch.subject ? ` ${ch.subject}` : ''}: ${ch.from ?? 'new'} → ${ch.to ?? 'gone'}`);
  }
}

export function registerOperationsCommands(program: Command, withContext: ContextOpener): void {
  const globals = () => program.opts<GlobalOptions>();
  program.command('inspect').description('run a health inspection, print it, exit 1 when a check is in error (for cron and monitoring)')
    .option('--light', 'only the light checks (services, database, queue)').option('--json', 'print the report as JSON')
    .action((o: { light?: boolean; json?: boolean }) => withContext(globals(), async ({ config, store, actor }) => {
      const deps: OpsDeps = { store, config, now: Date.now, nodeId: process.env.FANOUT_NODE_ID ?? os.hostname() };
      const { report } = await runInspection(deps, { kind: o.light ? 'light' : 'full', trigger: 'cli', actor });
      if (o.json) console.log(JSON.stringify(report, null, 2));
      else printInspection(report);
      if (report.status === 'error') process.exitCode = 1;
    }));
  const tickets = program.command('tickets').description('fault tickets');
  tickets.command('escalate').description('record due SLA escalations now (the scheduler does this every few seconds)')
    .action(() => withContext(globals(), async ({ config, store }) => {
      const done = await sweepEscalations({ store, config, now: Date.now, nodeId: process.env.FANOUT_NODE_ID ?? os.hostname() });
      for (const e of done) console.log(`${e.ticketId} ${e.target} ${e.percent}% (${e.mail})`);
      console.log(`${done.length} escalation(s) recorded`);
    }));
}
