import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { headlineReason } from '../bounces/index.ts';
import type { HeadlineReason } from '../bounces/index.ts';
import { invalid } from '../core/errors.ts';
import type { Executor } from '../store/store.ts';
import { addDays, localDate, startOfDay, zoneOffset } from './periods.ts';
import type { DateRange } from './periods.ts';
import { HOUR } from './rollups.ts';
import { firstHourlyDay, HOURLY_RETENTION_DAYS } from './compaction.ts';

export const DIMENSIONS = ['date', 'hour', 'tenant', 'account', 'clientIp', 'sourceIp', 'senderDomain', 'recipientDomain'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export const SEND_COUNTS = ['submitted', 'delivered', 'deferred', 'failed', 'bounced', 'complained', 'suppressed'] as const;
export type SendCounts = Record<(typeof SEND_COUNTS)[number], number>;
export interface FailureCounts {
  total: number;
  userUnknown: number;
  mailboxFull: number;
  rejected: number;
  other: number;
  /** Fine reasons of the bounce vocabulary (userunknown, mailboxfull, blocked, expired, ...). */
  reasons: Record<string, number>;
}

const COLUMN = {
  tenant: 'tenant_id', account: 'account_id', clientIp: 'client_ip', sourceIp: 'source_ip', senderDomain: 'sender_domain', recipientDomain: 'recipient_domain',
} as const;
type ColumnDimension = keyof typeof COLUMN;
const HEADLINE_KEY: Record<HeadlineReason, 'userUnknown' | 'mailboxFull' | 'rejected' | 'other'> = { user_unknown: 'userUnknown', mailbox_full: 'mailboxFull', rejected: 'rejected', other: 'other' };
const DAY = 86_400_000;

export interface StatsQuery {
  range: DateRange;
  timeZone: string;
  groupBy: Dimension[];
  tenantId?: string | null;
  accountId?: string | null;
  /** Days are folded into stats_daily in this zone; hours before the hourly horizon exist only there. */
  platformTimeZone: string;
  now: number;
}

export interface StatsAnswer<C> {
  from: string;
  to: string;
  timezone: string;
  total: C;
  items: (Record<string, unknown> & C)[];
}

/** Parses `groupBy=date,tenant,...`; an unknown or repeated dimension is refused by name. */
export function parseGroupBy(value: string | undefined, fallback: Dimension[]): Dimension[] {
  if (value === undefined) return fallback;
  const dims = value.split(',').map((d) => d.trim()).filter(Boolean);
  for (const d of dims) {
    if (!(DIMENSIONS as readonly string[]).includes(d)) throw invalid(`unknown dimension ${d}`, [{ field: '/querystring/groupBy', message: `dimensions are ${DIMENSIONS.join(', ')}` }]);
  }
  if (new Set(dims).size !== dims.length) throw invalid('a dimension is named twice', [{ field: '/querystring/groupBy', message: 'each dimension once' }]);
  return dims as Dimension[];
}

/**
 * The local day of an hour bucket as one SQL expression: `(hour + offset) / DAY` for each span
 * of constant offset in the range (a daylight-saving change splits it). Literals, not
 * parameters, so PostgreSQL sees one expression in SELECT and GROUP BY.
 */
function localDayExpression(start: number, end: number, timeZone: string): RawBuilder<number> {
  const spans: { until: number; offset: number }[] = [];
  let offset = zoneOffset(start, timeZone);
  for (let day = start; day < end; day += DAY) {
    const next = Math.min(day + DAY, end);
    if (zoneOffset(next - 1, timeZone) === offset) continue;
    for (let h = day; h < next; h += HOUR) {
      const o = zoneOffset(h, timeZone);
      if (o !== offset) {
        spans.push({ until: h, offset });
        offset = o;
      }
    }
  }
  const day = (o: number) => sql<number>`(hour + ${sql.lit(o)}) / ${sql.lit(DAY)}`;
  if (!spans.length) return day(offset);
  return sql<number>`case ${sql.join(spans.map((s) => sql`when hour < ${sql.lit(s.until)} then ${day(s.offset)}`), sql` `)} else ${day(offset)} end`;
}

interface Bucket {
  key: Record<string, string>;
  outcome: string;
  reason: string;
  n: number;
}

/**
 * Reads the counters of the range, summed over everything not grouped by: the hourly table
 * while it still holds the hours, the daily table (platform zone, by day) before that.
 */
async function readBuckets(db: Executor, q: StatsQuery, outcomes: readonly string[], withReason: boolean): Promise<Bucket[]> {
  const horizon = firstHourlyDay(q.now, q.platformTimeZone);
  if (startOfDay(q.range.from, q.timeZone) >= startOfDay(horizon, q.platformTimeZone)) return readHourly(db, q, outcomes, withReason);
  if (q.timeZone !== q.platformTimeZone || q.groupBy.includes('hour')) {
    throw invalid(`hourly detail is kept ${HOURLY_RETENTION_DAYS} days; before ${horizon} statistics are by day in the platform time zone ${q.platformTimeZone}`, [
      { field: '/querystring/from', message: `on or after ${horizon}, or leave out timezone and hour` },
    ]);
  }
  const daily = await readDaily(db, { ...q, range: { from: q.range.from, to: q.range.to < horizon ? q.range.to : addDays(horizon, -1) } }, outcomes, withReason);
  if (q.range.to < horizon) return daily;
  return [...daily, ...await readHourly(db, { ...q, range: { from: horizon, to: q.range.to } }, outcomes, withReason)];
}

async function readDaily(db: Executor, q: StatsQuery, outcomes: readonly string[], withReason: boolean): Promise<Bucket[]> {
  const cols = q.groupBy.filter((d): d is ColumnDimension => d in COLUMN).map((d) => COLUMN[d]);
  let query = db.selectFrom('stats_daily').select([...cols, 'outcome', (eb) => eb.fn.sum<number>('n').as('n')])
    .where('day', '>=', q.range.from).where('day', '<=', q.range.to).where('outcome', 'in', [...outcomes]);
  const groups: string[] = [...cols, 'outcome'];
  if (withReason) {
    query = query.select('reason');
    groups.push('reason');
  }
  if (q.groupBy.includes('date')) {
    query = query.select('day');
    groups.push('day');
  }
  if (q.tenantId) query = query.where('tenant_id', '=', q.tenantId);
  if (q.accountId) query = query.where('account_id', '=', q.accountId);
  const rows = await query.groupBy(groups as never).execute() as unknown as Record<string, string | number | null>[];
  return rows.map((r) => {
    const key: Record<string, string> = {};
    for (const d of q.groupBy) key[d] = d === 'date' ? String(r.day) : String(r[COLUMN[d as ColumnDimension]] ?? '');
    return { key, outcome: String(r.outcome), reason: String(r.reason ?? ''), n: Number(r.n) };
  });
}

async function readHourly(db: Executor, q: StatsQuery, outcomes: readonly string[], withReason: boolean): Promise<Bucket[]> {
  const start = startOfDay(q.range.from, q.timeZone);
  const end = startOfDay(addDays(q.range.to, 1), q.timeZone);
  const byHour = q.groupBy.includes('hour');
  const byDate = q.groupBy.includes('date') && !byHour;
  const cols = q.groupBy.filter((d): d is ColumnDimension => d in COLUMN).map((d) => COLUMN[d]);
  const dayExpr = localDayExpression(start, end, q.timeZone);
  let query = db.selectFrom('stats_hourly').select([...cols, 'outcome', (eb) => eb.fn.sum<number>('n').as('n')])
    .where('hour', '>=', start).where('hour', '<', end).where('outcome', 'in', [...outcomes]);
  if (withReason) query = query.select('reason');
  if (byHour) query = query.select('hour');
  if (byDate) query = query.select(dayExpr.as('day'));
  if (q.tenantId) query = query.where('tenant_id', '=', q.tenantId);
  if (q.accountId) query = query.where('account_id', '=', q.accountId);
  const groups: (string | RawBuilder<number>)[] = [...cols, 'outcome'];
  if (withReason) groups.push('reason');
  if (byHour) groups.push('hour');
  if (byDate) groups.push(dayExpr);
  // Kysely's groupBy takes references or expressions; both are given here.
  const rows = await query.groupBy(groups as never).execute() as unknown as Record<string, string | number | null>[];
  return rows.map((r) => {
    const key: Record<string, string> = {};
    for (const d of q.groupBy) {
      if (d === 'hour') {
        const local = new Date(Number(r.hour) + zoneOffset(Number(r.hour), q.timeZone)).toISOString();
        key.hour = `${local.slice(0, 10)} ${local.slice(11, 13)}:00`;
      } else if (d === 'date') {
        key.date = byHour ? localDate(Number(r.hour), q.timeZone) : new Date(Number(r.day) * DAY).toISOString().slice(0, 10);
      } else key[d] = String(r[COLUMN[d]] ?? '');
    }
    return { key, outcome: String(r.outcome), reason: String(r.reason ?? ''), n: Number(r.n) };
  });
}

async function names(db: Executor, groupBy: Dimension[]): Promise<{ tenants: Map<string, string>; accounts: Map<string, string> }> {
  const tenants = groupBy.includes('tenant') ? new Map((await db.selectFrom('tenants').select(['id', 'name']).execute()).map((t) => [t.id, t.name])) : new Map<string, string>();
  const accounts = groupBy.includes('account') ? new Map((await db.selectFrom('sending_accounts').select(['id', 'name']).execute()).map((a) => [a.id, a.name])) : new Map<string, string>();
  return { tenants, accounts };
}

/** Dimension values as the API shows them: tenant and account by id and by name. */
function labelled(q: StatsQuery, key: Record<string, string>, n: { tenants: Map<string, string>; accounts: Map<string, string> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of q.groupBy) {
    out[d] = key[d]!;
    if (d === 'tenant') out.tenantName = n.tenants.get(key[d]!) ?? '';
    if (d === 'account') out.accountName = n.accounts.get(key[d]!) ?? '';
  }
  return out;
}

function sortItems<T extends Record<string, unknown>>(items: T[], groupBy: Dimension[]): T[] {
  const label = (r: T, d: Dimension) => String(d === 'tenant' ? r.tenantName ?? r.tenant : d === 'account' ? r.accountName ?? r.account : r[d]);
  return items.sort((a, b) => {
    for (const d of groupBy) {
      const c = label(a, d).localeCompare(label(b, d)) || String(a[d]).localeCompare(String(b[d]));
      if (c) return c;
    }
    return 0;
  });
}

const zeroSends = (): SendCounts => ({ submitted: 0, delivered: 0, deferred: 0, failed: 0, bounced: 0, complained: 0, suppressed: 0 });

/** 群发统计: what was submitted and what became of it, per bucket of the chosen dimensions. */
export async function sendStatistics(db: Executor, q: StatsQuery): Promise<StatsAnswer<SendCounts>> {
  const buckets = await readBuckets(db, q, SEND_COUNTS, false);
  const n = await names(db, q.groupBy);
  const total = zeroSends();
  const rows = new Map<string, Record<string, unknown> & SendCounts>();
  for (const b of buckets) {
    const k = q.groupBy.map((d) => b.key[d]).join('\u0000');
    const row = rows.get(k) ?? { ...labelled(q, b.key, n), ...zeroSends() };
    rows.set(k, row);
    row[b.outcome as keyof SendCounts] += b.n;
    total[b.outcome as keyof SendCounts] += b.n;
  }
  return { from: q.range.from, to: q.range.to, timezone: q.timeZone, total, items: sortItems([...rows.values()], q.groupBy) };
}

const zeroFailures = (): FailureCounts => ({ total: 0, userUnknown: 0, mailboxFull: 0, rejected: 0, other: 0, reasons: {} });

/**
 * 投递失败统计: permanent failures (refusals and expiries seen by the sender) and bounces that
 * came back after acceptance, by the seed's three headline reasons and by fine reason.
 * Suppressed recipients were never attempted and are counted in the sending statistics.
 */
export async function failureStatistics(db: Executor, q: StatsQuery): Promise<StatsAnswer<FailureCounts>> {
  const buckets = await readBuckets(db, q, ['failed', 'bounced'], true);
  const n = await names(db, q.groupBy);
  const total = zeroFailures();
  const rows = new Map<string, Record<string, unknown> & FailureCounts>();
  const add = (c: FailureCounts, reason: string, count: number) => {
    c.total += count;
    c[HEADLINE_KEY[headlineReason(reason || 'undefined')]] += count;
    c.reasons[reason || 'undefined'] = (c.reasons[reason || 'undefined'] ?? 0) + count;
  };
  for (const b of buckets) {
    const k = q.groupBy.map((d) => b.key[d]).join('\u0000');
    const row = rows.get(k) ?? { ...labelled(q, b.key, n), ...zeroFailures() };
    rows.set(k, row);
    add(row, b.reason, b.n);
    add(total, b.reason, b.n);
  }
  return { from: q.range.from, to: q.range.to, timezone: q.timeZone, total, items: sortItems([...rows.values()], q.groupBy) };
}
