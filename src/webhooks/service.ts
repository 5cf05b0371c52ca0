import net from 'node:net';
import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { seal, unseal, WEBHOOK_PREVIOUS_SECRET, WEBHOOK_SECRET } from '../store/sealed-fields.ts';
import type { Store } from '../store/store.ts';
import { WEBHOOK_EVENT_TYPES } from './events.ts';
import type { NetworkPolicy } from './network.ts';
import { newSecret } from './signing.ts';
import type { WebhookEndpointTable } from './tables.ts';

export interface WebhookView {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  description: string;
  status: string;
  disabledReason: string | null;
  /** Until when deliveries also carry the signature of the previous secret. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function view(r: WebhookEndpointTable): WebhookView {
  return {
    id: r.id, tenantId: r.tenant_id, url: r.url, events: JSON.parse(r.events) as string[], description: r.description, status: r.status, disabledReason: r.disabled_reason,
    previousSecretExpiresAt: r.previous_secret_expires_at !== null && Number(r.previous_secret_expires_at) > Date.now() ? iso(r.previous_secret_expires_at) : null,
    createdAt: iso(r.created_at)!, updatedAt: iso(r.updated_at)!,
  };
}

/** An absolute http(s) URL without credentials; an address written in it must be allowed. */
export function checkUrl(url: string, policy: NetworkPolicy): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('url is not an absolute URL', [{ field: '/body/url', message: 'an absolute http or https URL' }]);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw invalid('url must be http or https', [{ field: '/body/url', message: 'http or https' }]);
  if (u.username || u.password) throw invalid('url must not carry credentials', [{ field: '/body/url', message: 'no user or password in the URL' }]);
  if (!u.hostname) throw invalid('url has no host', [{ field: '/body/url', message: 'a host' }]);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host)) {
    const why = policy.refusal(host);
    if (why) throw invalid(`url: ${why}`, [{ field: '/body/url', message: 'not an allowed network' }]);
  }
  return u.toString();
}

export function checkEvents(events: string[]): string[] {
  events.forEach((e, i) => {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e)) throw invalid(`unknown event ${e}`, [{ field: `/body/events/${i}`, message: `one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }]);
  });
  if (!events.length) throw invalid('subscribe to at least one event', [{ field: '/body/events', message: 'at least one event' }]);
  return [...new Set(events)];
}

async function load(store: Store, id: string, tenantScope: string | null): Promise<WebhookEndpointTable> {
  const r = await store.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r || (tenantScope !== null && r.tenant_id !== tenantScope)) throw notFound('webhook');
  return r;
}

export async function createWebhook(store: Store, actor: Actor, policy: NetworkPolicy, input: { tenantId: string; url: string; events: string[]; description?: string }): Promise<WebhookView & { secret: string }> {
  const url = checkUrl(input.url, policy);
  const events = checkEvents(input.events);
  const tenant = await store.db.selectFrom('tenants').select('id').where('id', '=', input.tenantId).executeTakeFirst();
  if (!tenant) throw invalid('unknown tenant', [{ field: '/body/tenantId', message: 'an existing tenant' }]);
  const id = newId('wh');
  const secret = newSecret();
  const now = Date.now();
  const row: WebhookEndpointTable = {
    id, tenant_id: input.tenantId, url, description: input.description ?? '', events: JSON.stringify(events), secret: seal(store, WEBHOOK_SECRET, id, secret),
    previous_secret: null, previous_secret_expires_at: null, status: 'enabled', disabled_reason: null, created_at: now, updated_at: now,
  };
  await store.transaction(async (trx) => {
    await trx.insertInto('webhook_endpoints').values(row).execute();
    await recordOperation(trx, actor, { operation: 'webhook.create', objectType: 'webhook', objectId: id, description: `webhook endpoint ${url} created`, tenantId: input.tenantId, details: { url, events } }, now);
  });
  return { ...view(row), secret };
}

export async function listWebhooks(store: Store, tenantScope: string | null, tenantId?: string): Promise<WebhookView[]> {
  let q = store.db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at');
  const t = tenantScope ?? tenantId;
  if (t) q = q.where('tenant_id', '=', t);
  return (await q.execute()).map(view);
}

export const getWebhook = async (store: Store, id: string, tenantScope: string | null) => view(await load(store, id, tenantScope));

export async function updateWebhook(store: Store, actor: Actor, policy: NetworkPolicy, id: string, tenantScope: string | null, input: { url?: string; events?: string[]; description?: string; enabled?: boolean }): Promise<WebhookView> {
  const r = await load(store, id, tenantScope);
  const now = Date.now();
  const set: Partial<WebhookEndpointTable> = { updated_at: now };
  if (input.url !== undefined) set.url = checkUrl(input.url, policy);
  if (input.events !== undefined) set.events = JSON.stringify(checkEvents(input.events));
  if (input.description !== undefined) set.description = input.description;
  if (input.enabled !== undefined) {
    set.status = input.enabled ? 'enabled' : 'disabled';
    set.disabled_reason = input.enabled ? null : `disabled by ${actor.operator}`;
  }
  await store.transaction(async (trx) => {
    await trx.updateTable('webhook_endpoints').set(set).where('id', '=', id).execute();
    await recordOperation(trx, actor, { operation: 'webhook.update', objectType: 'webhook', objectId: id, description: `webhook endpoint ${r.url} changed`, tenantId: r.tenant_id, details: { ...input } }, now);
  });
  return getWebhook(store, id, tenantScope);
}

export async function deleteWebhook(store: Store, actor: Actor, id: string, tenantScope: string | null): Promise<void> {
  const r = await load(store, id, tenantScope);
  await store.transaction(async (trx) => {
    await trx.deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
    await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
    await trx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
    await recordOperation(trx, actor, { operation: 'webhook.delete', objectType: 'webhook', objectId: id, description: `webhook endpoint ${r.url} deleted`, tenantId: r.tenant_id });
  });
}

/**
 * A new secret, shown once. The old one keeps signing too (a second `v1,` signature) until
 * the overlap ends, so the receiving system can switch without losing a delivery.
 */
export async function rotateSecret(store: Store, actor: Actor, id: string, tenantScope: string | null, overlapHours = 24): Promise<WebhookView & { secret: string }> {
  const r = await load(store, id, tenantScope);
  const secret = newSecret();
  const now = Date.now();
  await store.transaction(async (trx) => {
    await trx.updateTable('webhook_endpoints').set({
      secret: seal(store, WEBHOOK_SECRET, id, secret), previous_secret: overlapHours > 0 ? seal(store, WEBHOOK_PREVIOUS_SECRET, id, unseal(store, WEBHOOK_SECRET, id, r.secret)) : null,
      previous_secret_expires_at: overlapHours > 0 ? now + overlapHours * 3_600_000 : null, updated_at: now,
    }).where('id', '=', id).execute();
    await recordOperation(trx, actor, { operation: 'webhook.rotate_secret', objectType: 'webhook', objectId: id, description: `webhook endpoint ${r.url}: secret rotated, the old one signs for ${overlapHours} more hours`, tenantId: r.tenant_id }, now);
  });
  return { ...(await getWebhook(store, id, tenantScope)), secret };
}

/**
 * Sends the endpoint's events of a time range again (same webhook-id each): deliveries it had
 * become due now, and events of its types it had no delivery for are given one.
 */
export async function replayWebhook(store: Store, actor: Actor, id: string, tenantScope: string | null, range: { from: number; to: number }): Promise<{ replayed: number }> {
  const r = await load(store, id, tenantScope);
  const types = JSON.parse(r.events) as string[];
  const now = Date.now();
  return store.transaction(async (trx) => {
    const events = await trx.selectFrom('webhook_events').select(['id', 'type']).where('tenant_id', '=', r.tenant_id).where('created_at', '>=', range.from).where('created_at', '<', range.to).execute();
    const wanted = events.filter((e) => types.includes(e.type)).map((e) => Number(e.id));
    let replayed = 0;
    for (let i = 0; i < wanted.length; i += 500) {
      const chunk = wanted.slice(i, i + 500);
      const reset = await trx.updateTable('webhook_deliveries').set({ status: 'pending', next_attempt_at: now, updated_at: now }).where('endpoint_id', '=', id).where('event_id', 'in', chunk).executeTakeFirst();
      replayed += Number(reset.numUpdatedRows);
      const have = new Set((await trx.selectFrom('webhook_deliveries').select('event_id').where('endpoint_id', '=', id).where('event_id', 'in', chunk).execute()).map((d) => Number(d.event_id)));
      const missing = chunk.filter((e) => !have.has(e));
      if (missing.length) {
        await trx.insertInto('webhook_deliveries').values(missing.map((e) => ({ event_id: e, endpoint_id: id, status: 'pending', attempts: 0, next_attempt_at: now, last_status_code: null, last_error: null, created_at: now, updated_at: now }))).execute();
        replayed += missing.length;
      }
    }
    await recordOperation(trx, actor, { operation: 'webhook.replay', objectType: 'webhook', objectId: id, description: `webhook endpoint ${r.url}: ${replayed} events replayed`, tenantId: r.tenant_id, details: { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), replayed } }, now);
    return { replayed };
  });
}

export interface DeliveryView {
  id: number;
  webhookId: string;
  type: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The endpoint's delivery history, newest first, keyset-paginated by delivery id. */
export async function webhookDeliveries(store: Store, id: string, tenantScope: string | null, q: { status?: string; cursor?: number; limit?: number }): Promise<{ items: DeliveryView[]; nextCursor: number | null }> {
  await load(store, id, tenantScope);
  const limit = q.limit ?? 100;
  let query = store.db.selectFrom('webhook_deliveries as d').innerJoin('webhook_events as v', 'v.id', 'd.event_id')
    .select(['d.id', 'v.webhook_id', 'v.type', 'd.status', 'd.attempts', 'd.next_attempt_at', 'd.last_status_code', 'd.last_error', 'd.created_at', 'd.updated_at'])
    .where('d.endpoint_id', '=', id);
  if (q.status) query = query.where('d.status', '=', q.status);
  if (q.cursor) query = query.where('d.id', '<', q.cursor);
  const rows = await query.orderBy('d.id', 'desc').limit(limit + 1).execute();
  const items = rows.slice(0, limit).map((d) => ({
    id: Number(d.id), webhookId: d.webhook_id, type: d.type, status: d.status, attempts: d.attempts, nextAttemptAt: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    lastStatusCode: d.last_status_code, lastError: d.last_error, createdAt: iso(d.created_at)!, updatedAt: iso(d.updated_at)!,
  }));
  return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
}
