import { sql } from 'kysely';
import type { Executor } from '../store/store.ts';
import type { StatsHourlyTable } from './tables.ts';

export const HOUR = 3_600_000;

/** What a rollup counts. `expired` deliveries count as `failed` (reason `expired`). */
export type RollupOutcome = 'submitted' | 'delivered' | 'deferred' | 'failed' | 'bounced' | 'complained' | 'suppressed' | 'cancelled';

/** One event to count: the caller's transaction writes the event and this increment together. */
export interface RollupEvent {
  at: number;
  tenantId: string;
  accountId: string;
  clientIp?: string | null;
  sourceIp?: string | null;
  senderDomain: string;
  recipientDomain: string;
  outcome: RollupOutcome;
  reason?: string | null;
}

const KEY_COLUMNS = ['hour', 'tenant_id', 'account_id', 'client_ip', 'source_ip', 'sender_domain', 'recipient_domain', 'outcome', 'reason'] as const;
// Ten values a row: well inside SQLite's 32,766 bound values per statement.
const CHUNK = 1000;

/** Maps a delivery event's outcome to the counter it moves. */
export function rollupOutcome(outcome: string, reason: string | null): RollupOutcome {
  if (reason === 'suppressed') return 'suppressed';
  if (outcome === 'expired') return 'failed';
  return outcome as RollupOutcome;
}

/**
 * Adds events to the hourly counters inside the caller's transaction. Events of one batch that
 * share a bucket become one upsert row, so a batch of deliveries costs a few rows, not one each.
 */
export async function addToRollups(trx: Executor, events: RollupEvent[]): Promise<void> {
  if (!events.length) return;
  const rows = new Map<string, StatsHourlyTable>();
  for (const e of events) {
    const row: StatsHourlyTable = {
      hour: Math.floor(e.at / HOUR) * HOUR, tenant_id: e.tenantId, account_id: e.accountId, client_ip: e.clientIp ?? '', source_ip: e.sourceIp ?? '',
      sender_domain: e.senderDomain.toLowerCase(), recipient_domain: e.recipientDomain.toLowerCase(), outcome: e.outcome, reason: e.reason ?? '', n: 1,
    };
    const key = KEY_COLUMNS.map((c) => row[c]).join('\u0000');
    const seen = rows.get(key);
    if (seen) seen.n += 1;
    else rows.set(key, row);
  }
  // Sorted so that concurrent transactions take the rows' locks in one order (no deadlock on PostgreSQL).
  const all = [...rows.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, r]) => r);
  for (let i = 0; i < all.length; i += CHUNK) {
    await trx.insertInto('stats_hourly').values(all.slice(i, i + CHUNK))
      .onConflict((oc) => oc.columns([...KEY_COLUMNS]).doUpdateSet({ n: sql<number>`stats_hourly.n + excluded.n` }))
      .execute();
  }
}

/** Sender domain and client address of each message, for events that carry only its id. */
export async function messageOrigins(trx: Executor, messageIds: Iterable<string>): Promise<Map<string, { senderDomain: string; clientIp: string | null }>> {
  const ids = [...new Set(messageIds)];
  const out = new Map<string, { senderDomain: string; clientIp: string | null }>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await trx.selectFrom('delivery_messages').select(['id', 'from_domain', 'client_ip']).where('id', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.id, { senderDomain: r.from_domain, clientIp: r.client_ip });
  }
  return out;
}
