import { invalid } from '../core/errors.ts';

/** Minutes east of UTC that `timeZone` is at instant `at`. */
function offsetMinutes(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((asUtc - Math.floor(at / 1000) * 1000) / 60_000);
}

/**
 * A schedule time as people write it: an ISO instant with an offset (`2026-12-01T09:00:00+08:00`)
 * is taken as is; a local wall-clock time (`2026-12-01T09:00`) is read in `timeZone`.
 */
export function scheduleInstant(value: string, timeZone: string, field = 'scheduledAt'): number {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw invalid(`unknown time zone "${timeZone}"`, [{ field: 'timezone', message: 'an IANA time zone such as Asia/Shanghai' }]);
  }
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
    const t = Date.parse(value);
    if (Number.isNaN(t)) throw invalid(`${field} is not a date-time`, [{ field, message: 'ISO 8601 date-time' }]);
    return t;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) throw invalid(`${field} is not a date-time`, [{ field, message: 'YYYY-MM-DDTHH:mm, local to the time zone, or with an offset' }]);
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  // Two passes settle the offset across a daylight-saving change.
  let guess = wall - offsetMinutes(wall, timeZone) * 60_000;
  guess = wall - offsetMinutes(guess, timeZone) * 60_000;
  return guess;
}
