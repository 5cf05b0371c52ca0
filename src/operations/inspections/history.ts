import type { Executor } from '../../store/store.ts';
import type { CheckChange } from './runner.ts';
import type { CheckResult, CheckStatus, InspectionKind } from './types.ts';

export interface InspectionReport {
  id: string;
  kind: InspectionKind;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  status: Exclude<CheckStatus, 'unavailable'>;
  nodeId: string;
  operator: string;
  previousId: string | null;
  counts: Record<CheckStatus, number>;
  checks: CheckResult[];
  changes: CheckChange[];
}

const iso = (ms: number) => new Date(ms).toISOString();

async function checksOf(db: Executor, id: string): Promise<CheckResult[]> {
  const rows = await db.selectFrom('ops_inspection_checks').selectAll().where('inspection_id', '=', id).orderBy('position').execute();
  return rows.map((r) => ({
    key: r.key, subject: r.subject, category: r.category as CheckResult['category'], status: r.status as CheckStatus,
    value: JSON.parse(r.value) as unknown, threshold: JSON.parse(r.threshold) as unknown, message: r.message, numeric: r.numeric,
  }));
}

function counts(checks: CheckResult[]): Record<CheckStatus, number> {
  const out: Record<CheckStatus, number> = { ok: 0, warning: 0, error: 0, unavailable: 0 };
  for (const c of checks) out[c.status]++;
  return out;
}

export async function inspectionView(db: Executor, id: string): Promise<InspectionReport | null> {
  const r = await db.selectFrom('ops_inspections').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) return null;
  const checks = await checksOf(db, id);
  return {
    id: r.id, kind: r.kind as InspectionKind, trigger: r.trigger, startedAt: iso(r.started_at), finishedAt: iso(r.finished_at),
    status: r.status as InspectionReport['status'], nodeId: r.node_id, operator: r.operator, previousId: r.previous_id,
    counts: counts(checks), checks, changes: JSON.parse(r.changes) as CheckChange[],
  };
}

/** The latest inspection of a kind started before `before`, with its checks. */
export async function previousInspection(db: Executor, kind: InspectionKind, before: number): Promise<{ id: string; checks: CheckResult[] } | null> {
  const r = await db.selectFrom('ops_inspections').select('id').where('kind', '=', kind).where('started_at', '<=', before).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return r ? { id: r.id, checks: await checksOf(db, r.id) } : null;
}

export interface InspectionSummary {
  id: string;
  kind: InspectionKind;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  status: string;
  counts: Record<CheckStatus, number>;
  changes: number;
}

/** History, newest first; keyset pagination on the start time. */
export async function listInspections(db: Executor, f: { kind?: InspectionKind; from?: number; to?: number; before?: string; limit?: number }): Promise<{ items: InspectionSummary[]; nextBefore: string | null }> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
  let q = db.selectFrom('ops_inspections').selectAll();
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.from !== undefined) q = q.where('started_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('started_at', '<', f.to);
  if (f.before) q = q.where('id', '<', f.before);
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const tallies = page.length ? await db.selectFrom('ops_inspection_checks').select((eb) => ['inspection_id', 'status', eb.fn.countAll<number>().as('n')])
    .where('inspection_id', 'in', page.map((r) => r.id)).groupBy(['inspection_id', 'status']).execute() : [];
  return {
    items: page.map((r) => {
      const c: Record<CheckStatus, number> = { ok: 0, warning: 0, error: 0, unavailable: 0 };
      for (const t of tallies) if (t.inspection_id === r.id) c[t.status as CheckStatus] = Number(t.n);
      return { id: r.id, kind: r.kind as InspectionKind, trigger: r.trigger, startedAt: iso(r.started_at), finishedAt: iso(r.finished_at), status: r.status, counts: c, changes: (JSON.parse(r.changes) as unknown[]).length };
    }),
    nextBefore: rows.length > limit ? page[page.length - 1]!.id : null,
  };
}

/** One check's values over time (the console's history chart). */
export async function checkSeries(db: Executor, key: string, subject: string | null, from: number, to: number): Promise<{ at: string; inspectionId: string; status: string; numeric: number | null }[]> {
  let q = db.selectFrom('ops_inspection_checks as c').innerJoin('ops_inspections as i', 'i.id', 'c.inspection_id')
    .select(['i.started_at', 'i.id', 'c.status', 'c.numeric']).where('c.key', '=', key).where('i.started_at', '>=', from).where('i.started_at', '<', to);
  q = subject === null ? q : q.where('c.subject', '=', subject);
  const rows = await q.orderBy('i.started_at').limit(5000).execute();
  return rows.map((r) => ({ at: iso(r.started_at), inspectionId: r.id, status: r.status, numeric: r.numeric }));
}
