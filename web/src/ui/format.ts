import i18next from 'i18next';

/** The browser's time zone: every date the console shows, and every day boundary it asks for, is in it. */
export const timeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

const locale = () => (i18next.language === 'en' ? 'en-GB' : 'zh-CN');

export function formatDateTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  // One unambiguous form in both languages (2026-12-04 09:30:05), in the browser's time zone.
  const parts = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(d);
  const p = (type: string) => parts.find((x) => x.type === type)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}:${p('second')}`;
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(locale()).format(value);
}

export function formatPercent(value: number): string {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(value);
}

/** YYYY-MM-DD of an instant in the browser's zone. */
export function localDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The value of a datetime-local input as an ISO instant (the browser's zone), or undefined. */
export function localInputToIso(value: string | null): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** A span of minutes in the largest sensible units: "2 d 3 h", "4 h 05 min", "12 min". */
export function formatMinutes(minutes: number): string {
  const m = Math.max(0, Math.round(minutes));
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = m % 60;
  const t = i18next.t.bind(i18next);
  if (d > 0) return h ? `${t('duration.days', { n: d })} ${t('duration.hours', { n: h })}` : t('duration.days', { n: d });
  if (h > 0) return min ? `${t('duration.hours', { n: h })} ${t('duration.minutes', { n: min })}` : t('duration.hours', { n: h });
  return t('duration.minutes', { n: min });
}

/** A short form for table cells: month, day and time to the minute (12-05 09:30), in the browser's zone. */
export function formatShortDateTime(value: string | null | undefined): string {
  const full = formatDateTime(value);
  return /^\d{4}-/.test(full) ? full.slice(5, 16) : full;
}
