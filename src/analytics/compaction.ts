import { sql } from 'kysely';
import type { Store } from '../store/store.ts';
import { addDays, localDate, startOfDay } from './periods.ts';

/** Hourly counters are kept this many days (this month and last month always fit); days before are read from stats_daily. */
export const HOURLY_RETENTION_DAYS = 93;
/** Daily counters: 13 months. */
export const DAILY_RETENTION_DAYS = 400;

const DIMS = ['tenant_id', 'account_id', 'client_ip', 'source_ip', 'sender_domain', 'recipient_domain', 'outcome', 'reason'] as const;

/** The first platform-zone day whose hours are all still in stats_hourly. */
export function firstHourlyDay(now: number, timeZone: string): string {
  return addDays(localDate(now, timeZone), -HOURLY_RETENTION_DAYS);
}

/**
 * Folds finished days of the hourly counters into stats_daily (platform time zone), then prunes
 * hours past their retention and days past 13 months. A day is recomputed whole in one
 * transaction (delete, then insert the sums), so running it twice, or after a crash, counts
 * every event once; the last two days are folded again to take late increments.
 */
export async function compactRollups(store: Store, timeZone: string, now = Date.now()): Promise<{ days: string[]; prunedHours: number; prunedDays: number }> {
  const today = localDate(now, timeZone);
  const last = await store.db.selectFrom('stats_daily').select((eb) => eb.fn.max('day').as('day')).executeTakeFirst();
  const oldest = await store.db.selectFrom('stats_hourly').select((eb) => eb.fn.min('hour').as('hour')).executeTakeFirst();
  if (oldest?.hour === null || oldest?.hour === undefined) return { days: [], prunedHours: 0, prunedDays: 0 };
  let day = last?.day ? addDays(String(last.day), -2) : localDate(Number(oldest.hour), timeZone);
  const oldestDay = localDate(Number(oldest.hour), timeZone);
  if (day < oldestDay) day = oldestDay;
  const days: string[] = [];
  for (; day < today; day = addDays(day, 1)) {
    const from = startOfDay(day, timeZone);
    const to = startOfDay(addDays(day, 1), timeZone);
    await store.transaction(async (trx) => {
      await trx.deleteFrom('stats_daily').where('day', '=', day).execute();
      await trx.insertInto('stats_daily').columns(['day', ...DIMS, 'n']).expression(
        trx.selectFrom('stats_hourly').select([sql.lit(day).as('day'), ...DIMS, (eb) => eb.fn.sum<number>('n').as('n')])
          .where('hour', '>=', from).where('hour', '<', to).groupBy([...DIMS]),
      ).execute();
    });
    days.push(day);
  }
  const hours = await store.db.deleteFrom('stats_hourly').where('hour', '<', startOfDay(firstHourlyDay(now, timeZone), timeZone)).executeTakeFirst();
  const old = await store.db.deleteFrom('stats_daily').where('day', '<', addDays(today, -DAILY_RETENTION_DAYS)).executeTakeFirst();
  return { days, prunedHours: Number(hours.numDeletedRows), prunedDays: Number(old.numDeletedRows) };
}
