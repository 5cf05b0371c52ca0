import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { createDomain } from '../domains/service.ts';
import { writeMessages } from '../delivery/queue/enqueue.ts';
import { createTenant } from '../tenants/service.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';

const admin: Actor = { operator: 'admin', clientIp: '127.0.0.1', role: 'administrator' };

describeEachEngine('failure statistics', (get) => {
  test('failures per day, tenant and domain, split into the headline reasons; sync refusals and later bounces both count', async () => {
    const { store, dataDir } = get();
    const tenant = await createTenant(store, admin, { name: '招商证券' });
    const domain = await createDomain(store, admin, { tenantId: tenant.id, domain: 'sec.example' });
    const account = await createAccount(store, admin, { tenantId: tenant.id, name: 'sec', password: 'long enough' });
    const day1 = Date.UTC(2026, 7, 2, 3, 0); // 11:00 in Shanghai
    const lateNight = Date.UTC(2026, 7, 2, 17, 0); // 01:00 on the 3rd in Shanghai
    const outcomes = await store.transaction((trx) => writeMessages(trx, Array.from({ length: 6 }, (_, i) => ({
      tenantId: tenant.id, accountId: account.id, lane: 'bulk' as const, mailFrom: `news@${domain.domain}`, recipients: [{ email: `u${i}@dest.example` }], raw: Buffer.from('Subject: x\r\n\r\nx'),
    })), { now: day1 }));
    const ids = outcomes.map((o) => (o.ok ? o.result : null)!);
    const event = (i: number, at: number, outcome: string, reason: string) => ({
      at, tenant_id: tenant.id, account_id: account.id, message_id: ids[i]!.messageId, recipient_id: ids[i]!.recipientIds[0]!, recipient: `u${i}@dest.example`,
      lane: 'bulk', attempt: 1, source_ip: null, mx_host: 'mx.dest.example', site: 'mx.dest.example', reply_code: 550, enhanced_status: '5.0.0', text: 'x', outcome, reason,
    });
    await store.db.insertInto('delivery_events').values([
      event(0, day1, 'failed', 'userunknown'), event(1, day1, 'failed', 'mailboxfull'), event(2, day1, 'failed', 'blocked'),
      event(3, day1, 'delivered', 'delivered'), event(4, day1, 'failed', 'suppressed'), event(5, lateNight, 'expired', 'expired'),
    ]).execute();
    await store.db.insertInto('bounce_events').values({
      at: day1 + 60_000, inbound_id: null, tenant_id: tenant.id, message_id: ids[3]!.messageId, recipient_id: ids[3]!.recipientIds[0]!, recipient: 'u3@dest.example',
      kind: 'bounce', reason: 'userunknown', headline: 'user_unknown', hard: 1, status: '5.1.1', reply_code: '550', diagnostic: 'no such user', linked_by: 'verp',
    }).execute();

    const app = await testApp(store, dataDir);
    const auditor = await sessionFor(app, store, 'auditor');
    const res = await auditor.request('GET', '/api/v1/stats/failures?from=2026-08-01T00:00:00Z&to=2026-08-31T00:00:00Z&timezone=Asia/Shanghai');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().items.map((r: Record<string, unknown>) => [r.date, r.tenantName, r.domain, r.total, r.userUnknown, r.mailboxFull, r.rejected, r.other]), [
      ['2026-08-02', '招商证券', 'sec.example', 4, 2, 1, 1, 0],
      ['2026-08-03', '招商证券', 'sec.example', 1, 0, 0, 0, 1],
    ]);
    const utc = (await auditor.request('GET', '/api/v1/stats/failures?from=2026-08-01T00:00:00Z&to=2026-08-31T00:00:00Z&timezone=UTC')).json().items;
    assert.deepEqual(utc.map((r: { date: string; total: number }) => [r.date, r.total]), [['2026-08-02', 5]]);
    assert.equal((await auditor.request('GET', '/api/v1/stats/failures?from=2026-08-31T00:00:00Z&to=2026-08-01T00:00:00Z')).statusCode, 400);
    const stranger = await createTenant(store, admin, { name: 'Other' });
    const op = await sessionFor(app, store, 'operator', stranger.id);
    assert.deepEqual((await op.request('GET', '/api/v1/stats/failures?from=2026-08-01T00:00:00Z&to=2026-08-31T00:00:00Z')).json().items, []);
    await app.close();
  });
});
