import { sql } from 'kysely';
import { headlineReason } from '../bounces/index.ts';
import type { HeadlineReason } from '../bounces/index.ts';
import type { Executor } from '../store/store.ts';

export interface FailureRow {
  /** YYYY-MM-DD in the requested time zone. */
  date: string;
  tenantId: string;
  tenantName: string;
  /** The sending domain (发信域名). */
  domain: string;
  total: number;
  /** 其中 N 个邮箱地址不存在 / 邮箱空间不足 / 用户拒收, and the rest. */
  userUnknown: number;
  mailboxFull: number;
  rejected: number;
  other: number;
}

const DAY = 86_400_000;
const KEY: Record<HeadlineReason, 'userUnknown' | 'mailboxFull' | 'rejected' | 'other'> = { user_unknown: 'userUnknown', mailbox_full: 'mailboxFull', rejected: 'rejected', other: 'other' };

/** Offset of `timeZone` from UTC at `at`, in milliseconds (fixed for the query's range). */
function zoneOffset(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(at / 1000) * 1000;
}

/**
 * 投递失败统计: failed deliveries per day, tenant and sending domain, split into the seed's
 * headline reasons. A failure is a permanent SMTP refusal or expiry seen by the sender, or a
 * bounce that came back after the receiving server had accepted the message.
 */
export async function failureStatistics(db: Executor, q: { from: number; to: number; tenantId?: string | null; timeZone?: string }): Promise<FailureRow[]> {
  const offset = zoneOffset(q.from, q.timeZone ?? 'UTC');
  // Literals, not parameters: PostgreSQL must see the same expression in SELECT and GROUP BY.
  const day = (col: string) => sql<number>`(${sql.ref(col)} + ${sql.lit(offset)}) / ${sql.lit(DAY)}`;
  let sync = db.selectFrom('delivery_events as e').innerJoin('delivery_messages as m', 'm.id', 'e.message_id')
    .select([day('e.at').as('day'), 'e.tenant_id', 'm.from_domain', 'e.reason', (eb) => eb.fn.countAll<number>().as('n')])
    .where('e.outcome', 'in', ['failed', 'expired']).where('e.reason', 'not in', ['suppressed', 'cancelled'])
    .where('e.at', '>=', q.from).where('e.at', '<', q.to);
  if (q.tenantId) sync = sync.where('e.tenant_id', '=', q.tenantId);
  let late = db.selectFrom('bounce_events as b').innerJoin('delivery_messages as m', 'm.id', 'b.message_id')
    .select([day('b.at').as('day'), 'm.tenant_id', 'm.from_domain', 'b.reason', (eb) => eb.fn.countAll<number>().as('n')])
    .where('b.kind', '=', 'bounce').where('b.at', '>=', q.from).where('b.at', '<', q.to);
  if (q.tenantId) late = late.where('m.tenant_id', '=', q.tenantId);
  const [a, b] = await Promise.all([
    sync.groupBy([day('e.at'), 'e.tenant_id', 'm.from_domain', 'e.reason']).execute(),
    late.groupBy([day('b.at'), 'm.tenant_id', 'm.from_domain', 'b.reason']).execute(),
  ]);
  const tenants = new Map((await db.selectFrom('tenants').select(['id', 'name']).execute()).map((t) => [t.id, t.name]));
  const rows = new Map<string, FailureRow>();
  for (const r of [...a, ...b]) {
    const date = new Date(Number(r.day) * DAY).toISOString().slice(0, 10);
    const k = `${date}|${r.tenant_id}|${r.from_domain}`;
    let row = rows.get(k);
    if (!row) rows.set(k, (row = { date, tenantId: r.tenant_id, tenantName: tenants.get(r.tenant_id) ?? '', domain: r.from_domain, total: 0, userUnknown: 0, mailboxFull: 0, rejected: 0, other: 0 }));
    const n = Number(r.n);
    row.total += n;
    row[KEY[headlineReason(r.reason ?? 'undefined')]] += n;
  }
  return [...rows.values()].sort((x, y) => x.date.localeCompare(y.date) || x.tenantName.localeCompare(y.tenantName) || x.domain.localeCompare(y.domain));
}
