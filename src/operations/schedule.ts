import { localDate, wallInstant } from './tickets/calendar.ts';

/** The last daily slot (`HH:MM` in `timeZone`) at or before `now`. */
export function lastDailySlot(now: number, hhmm: string, timeZone: string): number {
  const minutes = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const today = wallInstant(localDate(now, timeZone), minutes, timeZone);
  return today <= now ? today : wallInstant(localDate(now - 86_400_000, timeZone), minutes, timeZone);
}
