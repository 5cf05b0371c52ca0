import assert from 'node:assert/strict';
import { test } from 'node:test';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/index.ts';
import { recordBounceEvent } from '../bounces/index.ts';
import { writeMessages } from '../delivery/queue/enqueue.ts';
import { createDomain } from '../domains/service.ts';
import { createTenant } from '../tenants/service.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { exportsSettled } from './exports.ts';

const admin: Actor = { operator: 'admin', clientIp: '127.0.0.1', role: 'administrator' };

describeEachEngine('delivery log search, timeline and background exports', (get) => {
  test('filters by every field, pages newest first, one message\'s whole timeline, exports equal the API\'s rows', async () => {
    const { store, dataDir } = get();
    const tenant = await createTenant(store, admin, { name: 'Cards' });
    const other = await createTenant(store, admin, { name: 'Other' });
    const domain = await createDomain(store, admin, { tenantId: tenant.id, domain: 'cards.example' });
    const account = await createAccount(store, admin, { tenantId: tenant.id, name: 'cards', password: 'long enough' });
    const t0 = Date.UTC(2026, 7, 2, 3, 0);
    const outcomes = await store.transaction((trx) => writeMessages(trx, Array.from({ length: 30 }, (_, i) => ({
      tenantId: tenant.id, accountId: account.id, lane: 'bulk' as const, mailFrom: `news@${domain.domain}`, recipients: [{ email: `u${i}@${i % 2 ? 'qq.example' : 'gmail.example'}` }],
      raw: Buffer.from('Subject: x\r\n\r\nx'), clientIp: i < 20 ? '10.1.1.1' : '10.2.2.2',
    })), { now: t0 }));
    const ids = outcomes.map((o) => (o.ok ? o.result : null)!);
    const events = ids.map((r, i) => ({
      at: t0 + i * 1000, tenant_id: tenant.id, account_id: account.id, message_id: r.messageId, recipient_id: r.recipientIds[0]!, recipient: `u${i}@${i % 2 ? 'qq.example' : 'gmail.example'}`,
      lane: 'bulk', attempt: 1, source_ip: i % 3 ? '192.0.2.1' : '192.0.2.2', mx_host: 'mx.example', site: 'mx.example', reply_code: i % 5 ? 250 : 550, enhanced_status: i % 5 ? '2.0.0' : '5.1.1',
      text: i % 5 ? 'ok' : '=HYPERLINK("x") no such user', outcome: i % 5 ? 'delivered' : 'failed', reason: i % 5 ? null : 'userunknown',
    }));
    await store.db.insertInto('delivery_events').values(events).execute();
    await store.transaction((trx) => recordBounceEvent(trx, {
      at: t0 + 60_000, inboundId: null, tenantId: tenant.id, messageId: ids[1]!.messageId, recipientId: ids[1]!.recipientIds[0]!, recipient: 'u1@qq.example', kind: 'complaint',
      reason: 'feedback', hard: false, status: '', replyCode: '', diagnostic: 'abuse report', linkedBy: 'verp',
    }));

    const app = await testApp(store, dataDir);
    const auditor = await sessionFor(app, store, 'auditor');
    const list = async (q: string) => {
      const r = await auditor.request('GET', `/api/v1/delivery/events?${q}`);
      assert.equal(r.statusCode, 200, r.body);
      return r.json() as { items: { id: number; recipient: string; at: string; outcome: string }[]; nextCursor: number | null };
    };
    const expect = (pick: (i: number) => boolean) => events.map((e, i) => ({ e, i })).filter(({ i }) => pick(i)).map(({ e }) => e.recipient).reverse();
    assert.deepEqual((await list('limit=1000&reason=userunknown')).items.map((e) => e.recipient), expect((i) => i % 5 === 0));
    assert.deepEqual((await list('limit=1000&clientIp=10.2.2.2')).items.map((e) => e.recipient), expect((i) => i >= 20));
    assert.deepEqual((await list('limit=1000&sourceIp=192.0.2.2')).items.map((e) => e.recipient), expect((i) => i % 3 === 0));
    assert.deepEqual((await list('limit=1000&recipientDomain=QQ.example')).items.map((e) => e.recipient), expect((i) => i % 2 === 1));
    assert.deepEqual((await list(`limit=1000&tenantId=${other.id}`)).items, []);
    // Keyset pages, newest first, cover everything once.
    const seen: string[] = [];
    let cursor: number | null = null;
    do {
      const page = await list(`limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((e) => e.recipient));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, expect(() => true));

    // One message's timeline: submitted, delivered, then the complaint.
    const tl = await auditor.request('GET', `/api/v1/delivery/messages/${ids[1]!.messageId}/timeline`);
    assert.equal(tl.statusCode, 200, tl.body);
    assert.deepEqual(tl.json().items.map((e: { kind: string }) => e.kind), ['submitted', 'delivered', 'complaint']);
    assert.equal(tl.json().clientIp, '10.1.1.1');
    const op = await sessionFor(app, store, 'operator', other.id);
    assert.equal((await op.request('GET', `/api/v1/delivery/messages/${ids[1]!.messageId}/timeline`)).statusCode, 404);

    // The page itself as CSV: formulas neutralised, BOM first.
    const csvPage = await auditor.request('GET', '/api/v1/delivery/events?limit=1000&reason=userunknown&format=csv');
    assert.equal(csvPage.statusCode, 200);
    assert.ok(csvPage.body.startsWith('\uFEFF'));
    assert.ok(csvPage.body.includes(`"'=HYPERLINK(""x"") no such user"`), csvPage.body);

    // Background exports of the whole log: progress, then a streamed file with the API's rows.
    const all = (await list('limit=1000')).items;
    for (const format of ['csv', 'xlsx'] as const) {
      const started = await auditor.request('POST', '/api/v1/delivery/exports', { format, tenantId: tenant.id });
      assert.equal(started.statusCode, 202, started.body);
      await exportsSettled();
      const job = (await auditor.request('GET', `/api/v1/delivery/exports/${started.json().id}`)).json();
      assert.equal(job.status, 'done');
      assert.equal(job.rows, 30);
      assert.equal(job.progress, 1);
      const file = await auditor.request('GET', job.download);
      assert.equal(file.statusCode, 200);
      let rows: Record<string, string>[];
      if (format === 'csv') {
        assert.ok(file.body.startsWith('\uFEFF'));
        rows = parse(file.body.slice(1), { columns: true }) as Record<string, string>[];
      } else {
        const wb = new ExcelJS.Workbook();
        await wb.xlsx.load(file.rawPayload as unknown as ArrayBuffer);
        const ws = wb.worksheets[0]!;
        const header = (ws.getRow(1).values as string[]).slice(1);
        rows = [];
        for (let r = 2; r <= ws.rowCount; r++) rows.push(Object.fromEntries(header.map((h, i) => [h, String((ws.getRow(r).values as unknown[])[i + 1] ?? '')])));
      }
      assert.deepEqual(rows.map((r) => [Number(r.id), r.recipient, r.at, r.outcome]), all.map((e) => [e.id, e.recipient, e.at, e.outcome]));
    }
    const bad = await auditor.request('POST', '/api/v1/delivery/exports', { format: 'pdf' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /format/);
    const logged = await store.db.selectFrom('operation_log').select('operation').where('operation', '=', 'delivery_log.export').execute();
    assert.equal(logged.length, 2);
    assert.equal((await op.request('GET', '/api/v1/delivery/exports/nope')).statusCode, 404);
    await app.close();
  });
});
