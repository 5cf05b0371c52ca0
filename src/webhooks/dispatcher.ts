import type { Logger } from 'pino';
import { recordOperation } from '../audit/index.ts';
import { unseal, WEBHOOK_PREVIOUS_SECRET, WEBHOOK_SECRET } from '../store/sealed-fields.ts';
import { webhookDeliveries } from '../metrics/index.ts';
import type { Store } from '../store/store.ts';
import type { NetworkPolicy } from './network.ts';
import { postWebhook } from './post.ts';
import type { PostResult } from './post.ts';
import { signatureHeader } from './signing.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Waits after each failed attempt: about 3 days in all (71.6 hours before jitter), then the
 * delivery is given up. Each wait varies by ±20 % so that endpoints coming back are not hit
 * by every retry at once.
 */
export const RETRY_SCHEDULE_MS = [5 * SECOND, MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 20 * HOUR];
const MAX_RETRY_AFTER_MS = 24 * HOUR;

/** The wait before attempt `attempts + 1`, or null once the schedule is spent. */
export function retryDelay(attempts: number, retryAfterMs: number | null, random = Math.random): number | null {
  const base = RETRY_SCHEDULE_MS[attempts - 1];
  if (base === undefined) return null;
  const jittered = Math.round(base * (0.8 + 0.4 * random()));
  return retryAfterMs === null ? jittered : Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

export interface DispatchOptions {
  policy: NetworkPolicy;
  timeoutMs: number;
  concurrency: number;
  batch?: number;
  log?: Logger;
  now?: () => number;
  random?: () => number;
}

interface Due {
  id: number;
  attempts: number;
  endpoint_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  webhook_id: string;
  payload: string;
  created_at: number;
}

const SYSTEM = { operator: 'system', clientIp: 'local', role: 'system' as const };

/**
 * One round: the due deliveries of enabled endpoints, oldest first, sent with bounded
 * concurrency; each result is written with its attempt. A delivery is marked only after its
 * attempt: a node killed mid-round leaves it pending, so it is sent again with the same
 * webhook-id (at least once). Returns how many were attempted.
 */
export async function dispatchRound(store: Store, o: DispatchOptions): Promise<number> {
  const now = (o.now ?? Date.now)();
  const due = await store.db.selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .innerJoin('webhook_events as v', 'v.id', 'd.event_id')
    .select(['d.id', 'd.attempts', 'd.endpoint_id', 'e.url', 'e.secret', 'e.previous_secret', 'e.previous_secret_expires_at', 'v.webhook_id', 'v.payload', 'v.created_at'])
    .where('d.status', '=', 'pending').where('d.next_attempt_at', '<=', now).where('e.status', '=', 'enabled')
    .orderBy('d.next_attempt_at').orderBy('d.id').limit(o.batch ?? 500).execute() as Due[];
  if (!due.length) return 0;
  const secrets = new Map<string, string[]>();
  for (const d of due) {
    if (secrets.has(d.endpoint_id)) continue;
    const list = [unseal(store, WEBHOOK_SECRET, d.endpoint_id, d.secret)];
    if (d.previous_secret && (d.previous_secret_expires_at ?? 0) > now) list.push(unseal(store, WEBHOOK_PREVIOUS_SECRET, d.endpoint_id, d.previous_secret));
    secrets.set(d.endpoint_id, list);
  }
  const results: { d: Due; r: PostResult; at: number }[] = [];
  let next = 0;
  const gone = new Set<string>();
  const worker = async () => {
    while (next < due.length) {
      const d = due[next++]!;
      // An endpoint that answered 410 in this round gets nothing more.
      if (gone.has(d.endpoint_id)) continue;
      const at = (o.now ?? Date.now)();
      const timestamp = Math.floor(at / 1000);
      const r = await postWebhook(d.url, {
        'webhook-id': d.webhook_id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader(secrets.get(d.endpoint_id)!, d.webhook_id, timestamp, d.payload),
      }, d.payload, { timeoutMs: o.timeoutMs, policy: o.policy });
      if (r.statusCode === 410) gone.add(d.endpoint_id);
      results.push({ d, r, at });
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, due.length) }, worker));

  await store.transaction(async (trx) => {
    for (const { d, r, at } of results) {
      const attempts = d.attempts + 1;
      const ok = r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
      const delay = ok || r.statusCode === 410 ? null : retryDelay(attempts, r.retryAfterMs, o.random);
      const status = ok ? 'delivered' : delay === null ? 'failed' : 'pending';
      const error = r.error ?? (ok ? null : `HTTP ${r.statusCode}`);
      await trx.updateTable('webhook_deliveries').set({
        status, attempts, next_attempt_at: delay === null ? at : at + delay, last_status_code: r.statusCode, last_error: error, updated_at: at,
      }).where('id', '=', d.id).where('status', '=', 'pending').execute();
      await trx.insertInto('webhook_attempts').values({ delivery_id: d.id, endpoint_id: d.endpoint_id, at, status_code: r.statusCode, error, duration_ms: r.durationMs }).execute();
      webhookDeliveries.inc({ result: ok ? 'delivered' : r.error?.startsWith('refused') ? 'refused' : status === 'failed' ? 'failed' : 'retry' });
    }
    for (const endpointId of gone) {
      const changed = await trx.updateTable('webhook_endpoints').set({ status: 'disabled', disabled_reason: 'the endpoint answered 410 Gone', updated_at: now })
        .where('id', '=', endpointId).where('status', '=', 'enabled').returning('tenant_id').executeTakeFirst();
      if (changed) {
        await recordOperation(trx, SYSTEM, { operation: 'webhook.disable', objectType: 'webhook', objectId: endpointId, description: 'webhook endpoint disabled: it answered 410 Gone', tenantId: changed.tenant_id });
        o.log?.warn({ endpointId }, 'webhook endpoint answered 410 Gone: disabled');
      }
    }
  });
  return results.length;
}
