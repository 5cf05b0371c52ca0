import { invalid } from '../core/errors.ts';

export const PERIODS = ['today', 'yesterday', 'this_week', 'last_week', 'this_month', 'last_month'] as const;
export type Period = (typeof PERIODS)[number];

const DAY = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset of `timeZone` from UTC at the instant `at`, in milliseconds. */
export function zoneOffset(at: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(at);
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(at / 1000) * 1000;
}

/** The calendar date (YYYY-MM-DD) of `at` in `timeZone`. */
export function localDate(at: number, timeZone: string): string {
  return new Date(at + zoneOffset(at, timeZone)).toISOString().slice(0, 10);
}

/** The instant local midnight of `date` happens in `timeZone` (the first instant of that day). */
export function startOfDay(date: string, timeZone: string): number {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  // Two passes settle the offset across a transition.
  let guess = utcMidnight - zoneOffset(utcMidnight, timeZone);
  guess = utcMidnight - zoneOffset(guess, timeZone);
  return guess;
}

export const addDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

/** Checks an IANA zone name; statistics are kept per UTC hour, so the zone must be whole hours from UTC. */
export function checkTimeZone(timeZone: string, field = '/querystring/timezone'): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw invalid(`unknown time zone ${timeZone}`, [{ field, message: 'an IANA time zone such as Asia/Shanghai' }]);
  }
  const now = Date.now();
  for (const at of [now, now - 182 * DAY]) {
    if (zoneOffset(at, timeZone) % 3_600_000 !== 0) throw invalid(`time zone ${timeZone} is not a whole number of hours from UTC; statistics are kept per hour`, [{ field, message: 'a zone whole hours from UTC' }]);
  }
  return timeZone;
}

export interface DateRange {
  /** Inclusive local dates. */
  from: string;
  to: string;
}

/** A preset period, in the zone's calendar; weeks start on Monday. */
export function periodRange(period: Period, now: number, timeZone: string): DateRange {
  const today = localDate(now, timeZone);
  const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday 0
  const monthStart = `${today.slice(0, 8)}01`;
  switch (period) {
    case 'today': return { from: today, to: today };
    case 'yesterday': return { from: addDays(today, -1), to: addDays(today, -1) };
    case 'this_week': return { from: addDays(today, -weekday), to: today };
    case 'last_week': return { from: addDays(today, -weekday - 7), to: addDays(today, -weekday - 1) };
    case 'this_month': return { from: monthStart, to: today };
    case 'last_month': {
      const lastDay = addDays(monthStart, -1);
      return { from: `${lastDay.slice(0, 8)}01`, to: lastDay };
    }
  }
}

/** A range from the query: a period, or `from` and `to` dates (inclusive); never both, never neither. */
export function rangeFromQuery(q: { period?: string; from?: string; to?: string }, now: number, timeZone: string): DateRange {
  if (q.period !== undefined) {
    if (!(PERIODS as readonly string[]).includes(q.period)) throw invalid(`unknown period ${q.period}`, [{ field: '/querystring/period', message: `one of ${PERIODS.join(', ')}` }]);
    if (q.from !== undefined || q.to !== undefined) throw invalid('give either period or from and to', [{ field: '/querystring/period', message: 'not with from/to' }]);
    return periodRange(q.period as Period, now, timeZone);
  }
  if (q.from === undefined && q.to === undefined) return periodRange('today', now, timeZone);
  for (const f of ['from', 'to'] as const) {
    const v = q[f];
    const m = v === undefined ? null : DATE.exec(v);
    if (!m || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) throw invalid(`${f} must be a date YYYY-MM-DD`, [{ field: `/querystring/${f}`, message: 'a date YYYY-MM-DD' }]);
  }
  if (q.from! > q.to!) throw invalid('from is after to', [{ field: '/querystring/from', message: 'on or before to' }]);
  return { from: q.from!, to: q.to! };
}
