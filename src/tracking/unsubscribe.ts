import type { Actor } from '../audit/index.ts';
import { suppress } from '../bounces/index.ts';
import type { Store } from '../store/store.ts';
import { unsubscribe } from '../subscribers/index.ts';
import type { RecipientRef } from './links-signed.ts';
import { emitWebhookEvents } from '../webhooks/index.ts';

/**
 * Takes the recipient off the list the mail came from (or, for mail sent outside any list,
 * puts the address on the tenant's suppression list for bulk mail), in one transaction, and
 * records the unsubscribe event. `source` says how: one-click, link, mailto.
 */
export async function applyUnsubscribe(store: Store, ref: RecipientRef, source: string, clientIp: string): Promise<void> {
  const actor: Actor = { operator: `recipient:${ref.e}`, clientIp, role: 'system', tenantId: ref.t };
  await store.transaction(async (trx) => {
    await unsubscribe(trx, actor, { tenantId: ref.t, email: ref.e, listId: ref.l ?? null, source });
    if (!ref.l) await suppress(trx, { tenantId: ref.t, address: ref.e, reason: 'unsubscribe', source, evidence: { campaign: ref.c ?? null, message: ref.m ?? null } });
    const at = Date.now();
    await trx.insertInto('tracking_events').values({ at, tenant_id: ref.t, kind: 'unsubscribe', email: ref.e, message_id: ref.m ?? null, campaign_id: ref.c ?? null, url: null, user_agent: null, ip: clientIp }).execute();
    await emitWebhookEvents(trx, [{ tenantId: ref.t, at, type: 'recipient.unsubscribed', data: { recipient: ref.e, listId: ref.l ?? null, messageRef: ref.m ?? null, campaignId: ref.c ?? null, source } }]);
  });
}
