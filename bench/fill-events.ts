// Shared by the analytics benchmarks: writes delivery events the way the sender does, with their
// rollups in the same transaction, spread over the last `days` days.
import { addToRollups, rollupOutcome } from '../src/analytics/index.ts';
import type { RollupEvent } from '../src/analytics/index.ts';
import type { Store } from '../src/store/store.ts';
import type { Insertable } from 'kysely';
import type { DeliveryEventTable } from '../src/delivery/tables.ts';

const OUTCOMES = ['delivered', 'delivered', 'delivered', 'delivered', 'delivered', 'delivered', 'deferred', 'failed', 'failed', 'expired'];
const REASONS: Record<string, string[]> = { delivered: [''], deferred: ['blocked', 'mailboxfull', 'systemerror'], failed: ['userunknown', 'mailboxfull', 'rejected', 'blocked', 'hostunknown'], expired: ['expired'] };

export interface Shape { tenants: number; accountsPerTenant: number; clientIps: number; sourceIps: number; senderDomains: number; recipientDomains: number }
export const SHAPE: Shape = { tenants: 5, accountsPerTenant: 2, clientIps: 8, sourceIps: 4, senderDomains: 10, recipientDomains: 200 };

/** A skewed pick: a few values take most of the traffic, as providers do. */
const skewed = (n: number, r: number) => Math.min(n - 1, Math.floor(n * r * r * r));

export async function fillEvents(store: Store, total: number, days: number, shape: Shape = SHAPE, batch = 1000): Promise<{ ms: number }> {
  const now = Date.now();
  const started = performance.now();
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let done = 0; done < total; done += batch) {
    const rows: Insertable<DeliveryEventTable>[] = [];
    const counted: RollupEvent[] = [];
    for (let i = 0; i < Math.min(batch, total - done); i++) {
      const at = now - Math.floor(rand() * days * 86_400_000);
      const t = Math.floor(rand() * shape.tenants);
      const outcome = OUTCOMES[Math.floor(rand() * OUTCOMES.length)]!;
      const reasons = REASONS[outcome]!;
      const reason = reasons[Math.floor(rand() * reasons.length)] || null;
      const recipientDomain = `d${skewed(shape.recipientDomains, rand())}.example`;
      const sourceIp = `192.0.2.${1 + Math.floor(rand() * shape.sourceIps)}`;
      const ev = {
        at, tenant_id: `tn_${t}`, account_id: `ac_${t}_${Math.floor(rand() * shape.accountsPerTenant)}`, message_id: `msg_${done + i}`, recipient_id: `rc_${done + i}`,
        recipient: `u${done + i}@${recipientDomain}`, lane: 'bulk', attempt: 1, source_ip: sourceIp, mx_host: `mx.${recipientDomain}`, site: `mx.${recipientDomain}`,
        reply_code: outcome === 'delivered' ? 250 : 550, enhanced_status: null, text: null, outcome, reason,
      };
      rows.push(ev);
      counted.push({
        at, tenantId: ev.tenant_id, accountId: ev.account_id, clientIp: `10.0.0.${1 + Math.floor(rand() * shape.clientIps)}`, sourceIp, senderDomain: `s${t * 2 + Math.floor(rand() * 2)}.bank.example`,
        recipientDomain, outcome: rollupOutcome(outcome, reason), reason,
      });
    }
    await store.transaction(async (trx) => {
      for (let i = 0; i < rows.length; i += 1000) await trx.insertInto('delivery_events').values(rows.slice(i, i + 1000)).execute();
      await addToRollups(trx, counted);
    });
  }
  return { ms: performance.now() - started };
}
