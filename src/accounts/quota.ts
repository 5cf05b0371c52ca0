/** Quota arithmetic kept pure: the service applies it inside a transaction. */

export const SENDING_TYPES = ['total', 'daily', 'monthly'] as const;
export type SendingType = (typeof SENDING_TYPES)[number];

let defaultTimezone = 'UTC';

/** Set once at start-up from the configuration (`timezone`). */
export function setQuotaTimezone(timezone: string): void {
  new Intl.DateTimeFormat('en-CA', { timeZone: timezone }); // throws RangeError on an unknown zone
  defaultTimezone = timezone;
}

/** The period a counter belongs to: a day or a month in the platform's time zone, or none. */
export function periodKey(type: string, now: number, timezone = defaultTimezone): string | null {
  if (type === 'total') return null;
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return type === 'daily' ? `${get('year')}-${get('month')}-${get('day')}` : `${get('year')}-${get('month')}`;
}

/** The alert level reached by a usage: 0, 90 or 100 (percent of the quota). */
export function alertLevel(used: number, quota: number | null): 0 | 90 | 100 {
  if (quota === null) return 0;
  if (quota === 0 || used >= quota) return 100;
  return used * 10 >= quota * 9 ? 90 : 0;
}
