import type { Actor } from '../../audit/index.ts';
import { recordOperation } from '../../audit/index.ts';
import { newId } from '../../core/ids.ts';
import type { OpsDeps } from '../context.ts';
import { applySignals, signalsFromChecks } from '../tickets/monitors.ts';
import type { SignalOutcome } from '../tickets/monitors.ts';
import { blocklistChecks } from './checks/blocklist.ts';
import { dnsChecks } from './checks/dns.ts';
import { fanoutChecks } from './checks/fanout.ts';
import { queueChecks } from './checks/queue.ts';
import { sendReceiveChecks } from './checks/send-receive.ts';
import { serviceChecks } from './checks/services.ts';
import { systemChecks } from './checks/system.ts';
import { inspectionView, previousInspection } from './history.ts';
import type { InspectionReport } from './history.ts';
import { opsResolver } from './resolver.ts';
import type { CheckDefinition, CheckResult, CheckStatus, InspectionKind } from './types.ts';

/** Every check, in report order. */
export const CHECKS: CheckDefinition[] = [...serviceChecks, ...sendReceiveChecks, ...queueChecks, ...fanoutChecks, ...systemChecks, ...dnsChecks, ...blocklistChecks];

const DEFAULT_TIMEOUT_MS = 30_000;

function timeoutFor(deps: OpsDeps, def: CheckDefinition): number {
  if (def.key === 'send_receive') return deps.config.operations.probe.timeoutSeconds * 1000 + 30_000;
  return def.timeoutMs ?? DEFAULT_TIMEOUT_MS;
}

/** Runs one check; an exception or a time-out becomes an `unavailable` finding, never a failed run. */
async function runOne(deps: OpsDeps, def: CheckDefinition, ctx: Parameters<CheckDefinition['run']>[0]): Promise<CheckResult[]> {
  const ms = timeoutFor(deps, def);
  let timer: NodeJS.Timeout | undefined;
  try {
    const out = await Promise.race([
      def.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the check did not finish within ${ms / 1000} s`)), ms);
      }),
    ]);
    return Array.isArray(out) ? out : [out];
  } catch (err) {
    deps.log?.warn({ err, check: def.key }, 'inspection check failed');
    return [{ key: def.key, subject: null, category: 'fanout', status: 'unavailable', value: null, threshold: null, message: `the check could not run: ${(err as Error).message}`, numeric: null }];
  } finally {
    clearTimeout(timer);
  }
}

export function overallStatus(checks: CheckResult[]): Exclude<CheckStatus, 'unavailable'> {
  if (checks.some((c) => c.status === 'error')) return 'error';
  if (checks.some((c) => c.status === 'warning')) return 'warning';
  return 'ok';
}

export interface RunOptions {
  kind: InspectionKind;
  trigger: 'manual' | 'schedule' | 'cli';
  actor: Actor;
}

export interface InspectionOutcome {
  report: InspectionReport;
  signals: SignalOutcome[];
}

/**
 * Runs an inspection now: every check of the kind at once, each bounded in time; stores the
 * report with what changed since the previous one of the same kind; lets the monitors open,
 * deduplicate or annotate tickets from what it found.
 */
export async function runInspection(deps: OpsDeps, options: RunOptions): Promise<InspectionOutcome> {
  const startedAt = deps.now();
  const resolver = opsResolver(deps.config.operations.dns.servers, deps.config.operations.dns.timeoutMs);
  const defs = CHECKS.filter((d) => options.kind === 'full' || d.light);
  const ctx = { deps, resolver, kind: options.kind };
  const checks = (await Promise.all(defs.map((d) => runOne(deps, d, ctx)))).flat();
  const finishedAt = deps.now();
  const id = newId('insp', startedAt);
  const status = overallStatus(checks);
  const previous = await previousInspection(deps.store.db, options.kind, startedAt);
  const changes = diffChecks(previous?.checks ?? [], checks);
  await deps.store.transaction(async (trx) => {
    await trx.insertInto('ops_inspections').values({
      id, kind: options.kind, trigger: options.trigger, started_at: startedAt, finished_at: finishedAt, status, node_id: deps.nodeId,
      operator: options.actor.operator, previous_id: previous?.id ?? null, changes: JSON.stringify(changes),
    }).execute();
    const rows = checks.map((c, position) => ({
      inspection_id: id, position, key: c.key, subject: c.subject, category: c.category, status: c.status,
      value: JSON.stringify(c.value ?? null), threshold: JSON.stringify(c.threshold ?? null), message: c.message, numeric: c.numeric ?? null,
    }));
    for (let i = 0; i < rows.length; i += 200) await trx.insertInto('ops_inspection_checks').values(rows.slice(i, i + 200)).execute();
    if (options.trigger !== 'schedule') {
      await recordOperation(trx, options.actor, { operation: 'inspection.run', objectType: 'inspection', objectId: id, description: `${options.kind} inspection run: ${status}`, details: { kind: options.kind, status, checks: checks.length } }, finishedAt);
    }
  });
  const signals = await applySignals(deps, signalsFromChecks(checks));
  const report = await inspectionView(deps.store.db, id);
  return { report: report!, signals };
}

export interface CheckChange {
  key: string;
  subject: string | null;
  from: CheckStatus | null;
  to: CheckStatus | null;
  message: string;
}

/** Status changes by (key, subject): appeared, disappeared, or moved between statuses. */
export function diffChecks(before: Pick<CheckResult, 'key' | 'subject' | 'status' | 'message'>[], after: Pick<CheckResult, 'key' | 'subject' | 'status' | 'message'>[]): CheckChange[] {
  const id = (c: { key: string; subject: string | null }) => `${c.key}\u0000${c.subject ?? ''}`;
  const old = new Map(before.map((c) => [id(c), c]));
  const out: CheckChange[] = [];
  for (const c of after) {
    const o = old.get(id(c));
    old.delete(id(c));
    if (!o) out.push({ key: c.key, subject: c.subject, from: null, to: c.status, message: c.message });
    else if (o.status !== c.status) out.push({ key: c.key, subject: c.subject, from: o.status, to: c.status, message: c.message });
  }
  for (const o of old.values()) out.push({ key: o.key, subject: o.subject, from: o.status, to: null, message: 'no longer checked' });
  return out;
}
