/**
 * The SLA calendar: which time counts towards a ticket's response and resolution targets.
 * The seed's service is 7×24 (every hour counts); a bank may buy business hours instead, with
 * its working days, holidays and swapped workdays (调休). Working days alone also set the fault
 * report's deadline (3 working days after resolution), whatever the SLA calendar.
 */
export interface CalendarSpec {
  mode: '24x7' | 'business';
  timezone: string;
  /** 0 = Sunday. */
  workingDays: number[];
  /** HH:MM local. */
  start: string;
  /** HH:MM local, or 24:00. */
  end: string;
  holidays: string[];
  workdays: string[];
}

const DAY = 86_400_000;
// A bound on day-by-day walks: ten years of calendar days.
const MAX_DAYS = 3660;

interface LocalDate { y: number; m: number; d: number }

function partsOf(at: number, timeZone: string): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { y: n('year'), m: n('month'), d: n('day'), h: n('hour'), mi: n('minute'), s: n('second') };
}

/** The instant a local wall-clock time in `timeZone` names (two passes settle daylight saving). */
export function wallInstant(date: LocalDate, minutes: number, timeZone: string): number {
  const wall = Date.UTC(date.y, date.m - 1, date.d) + minutes * 60_000;
  const offset = (at: number) => {
    const p = partsOf(at, timeZone);
    return Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s) - Math.floor(at / 1000) * 1000;
  };
  let guess = wall - offset(wall);
  guess = wall - offset(guess);
  return guess;
}

export function localDate(at: number, timeZone: string): LocalDate {
  const p = partsOf(at, timeZone);
  return { y: p.y, m: p.m, d: p.d };
}

function nextDate(date: LocalDate): LocalDate {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d) + DAY);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

const iso = (date: LocalDate) => `${date.y}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`;
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export class SlaCalendar {
  readonly spec: CalendarSpec;
  readonly #holidays: Set<string>;
  readonly #workdays: Set<string>;

  constructor(spec: CalendarSpec) {
    new Intl.DateTimeFormat('en-US', { timeZone: spec.timezone });
    this.spec = spec;
    this.#holidays = new Set(spec.holidays);
    this.#workdays = new Set(spec.workdays);
  }

  isWorkingDay(date: LocalDate): boolean {
    const key = iso(date);
    if (this.#workdays.has(key)) return true;
    if (this.#holidays.has(key)) return false;
    return this.spec.workingDays.includes(new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay());
  }

  /** The counted window of one local day, or null when the day does not count. */
  #window(date: LocalDate): [number, number] | null {
    if (!this.isWorkingDay(date)) return null;
    return [wallInstant(date, minutesOf(this.spec.start), this.spec.timezone), wallInstant(date, minutesOf(this.spec.end), this.spec.timezone)];
  }

  /** Counted milliseconds between `a` and `b`. */
  countedMs(a: number, b: number): number {
    if (b <= a) return 0;
    if (this.spec.mode === '24x7') return b - a;
    let total = 0;
    let date = localDate(a, this.spec.timezone);
    for (let i = 0; i < MAX_DAYS; i++) {
      const w = this.#window(date);
      if (w) {
        if (w[0] >= b) break;
        total += Math.max(0, Math.min(b, w[1]) - Math.max(a, w[0]));
      } else if (wallInstant(date, 0, this.spec.timezone) >= b) {
        break;
      }
      date = nextDate(date);
    }
    return total;
  }

  /** The instant at which `ms` counted milliseconds have passed since `from`. */
  addCounted(from: number, ms: number): number {
    if (this.spec.mode === '24x7' || ms <= 0) return from + Math.max(0, ms);
    let remaining = ms;
    let date = localDate(from, this.spec.timezone);
    for (let i = 0; i < MAX_DAYS; i++) {
      const w = this.#window(date);
      if (w && w[1] > from) {
        const start = Math.max(from, w[0]);
        const len = w[1] - start;
        if (len >= remaining) return start + remaining;
        remaining -= len;
      }
      date = nextDate(date);
    }
    throw new Error('the SLA calendar has no working time in the next ten years');
  }

  /** The end (local midnight) of the `n`th working day after the day of `from`. */
  workingDaysAfter(from: number, n: number): number {
    let date = localDate(from, this.spec.timezone);
    let counted = 0;
    for (let i = 0; i < MAX_DAYS; i++) {
      date = nextDate(date);
      if (this.isWorkingDay(date) && ++counted === n) return wallInstant(nextDate(date), 0, this.spec.timezone);
    }
    throw new Error('no working days in the next ten years');
  }
}
