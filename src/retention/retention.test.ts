import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordOperation, verifyOperationLog } from '../audit/log.ts';
import { BodySplitter, loadBody } from '../delivery/queue/bodies.ts';
import { writeMessages } from '../delivery/queue/enqueue.ts';
import { makeSender } from '../delivery/queue/fixtures.ts';
import { testConfig } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { runRetention } from './index.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T00:00:00Z');

describeEachEngine('retention prunes exactly what expired', (get) => {
  test('delivery events, finished bodies and unreferenced parts, bounce raw mail, tracking events, operation log (chain anchored), archived bodies', async () => {
    const { store, dataDir } = get();
    const f = await makeSender(store, { name: 'prune', domain: 'prune.bank.test' });
    const splitter = new BodySplitter();
    const attachment = (label: string) => `--b\r\nContent-Type: application/pdf\r\n\r\n${label.repeat(5000)}\r\n--b--\r\n`;
    const message = (to: string, label: string) => ({
      tenantId: f.tenantId, accountId: f.account.id, lane: 'transactional' as const, mailFrom: `n@${f.domain}`, recipients: [{ email: to }],
      raw: splitter.split(Buffer.from(`From: n@${f.domain}\r\nTo: ${to}\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n${attachment(label)}`)),
    });
    // Two days old: one delivered (its body and its part go), one still queued (kept, with its part).
    const recent = await store.transaction((trx) => writeMessages(trx, [message('done@client.example', 'A'), message('waiting@client.example', 'B')], { now: NOW - 2 * DAY }));
    // Two hundred days old and delivered: the whole message goes with its events.
    const ancient = await store.transaction((trx) => writeMessages(trx, [message('old@client.example', 'C')], { now: NOW - 200 * DAY }));
    const id = (o: (typeof recent)[number]) => (o.ok ? o.result.messageId : '');
    const [doneId, waitingId, oldId] = [id(recent[0]!), id(recent[1]!), id(ancient[0]!)];
    await store.db.updateTable('delivery_recipients').set({ state: 'delivered', updated_at: NOW - 2 * DAY }).where('message_id', '=', doneId).execute();
    await store.db.updateTable('delivery_recipients').set({ state: 'delivered', updated_at: NOW - 199 * DAY }).where('message_id', '=', oldId).execute();
    const event = (at: number, messageId: string) => ({ at, tenant_id: f.tenantId, account_id: f.account.id, message_id: messageId, recipient_id: 'rc', recipient: 'x@client.example', lane: 'transactional', attempt: 1, source_ip: null, mx_host: null, site: null, reply_code: 250, enhanced_status: null, text: null, outcome: 'delivered', reason: null });
    await store.db.insertInto('delivery_events').values([event(NOW - 200 * DAY, oldId), event(NOW - 181 * DAY, oldId), event(NOW - 179 * DAY, doneId), event(NOW - DAY, doneId)]).execute();
    const inbound = (id: string, at: number) => ({ id, received_at: at, remote_ip: '127.0.0.1', mail_from: '', rcpt_to: '[]', size: 3, raw: Buffer.from('raw'), parse_status: 'classified', kind: 'bounce', tenant_id: f.tenantId, summary: '' });
    await store.db.insertInto('inbound_messages').values([inbound('in_old', NOW - 91 * DAY), inbound('in_new', NOW - 89 * DAY)]).execute();
    const track = (at: number) => ({ at, tenant_id: f.tenantId, kind: 'open', email: 'x@client.example', message_id: null, campaign_id: null, url: null, user_agent: null, ip: null });
    await store.db.insertInto('tracking_events').values([track(NOW - 181 * DAY), track(NOW - 179 * DAY)]).execute();
    const system = { operator: 'test', clientIp: '127.0.0.1', role: 'system' as const };
    for (const [i, at] of [NOW - 400 * DAY, NOW - 390 * DAY, NOW - 10 * DAY, NOW - DAY].entries()) {
      await store.transaction((trx) => recordOperation(trx, system, { operation: 'test.entry', objectType: 'test', objectId: String(i), description: `entry ${i}` }, at));
    }
    const entriesBefore = await store.db.selectFrom('operation_log').select('id').execute();
    const partsBefore = await store.db.selectFrom('delivery_parts').select('hash').execute();
    assert.equal(partsBefore.length, 3);

    const config = testConfig(dataDir, { retention: { operationLogDays: 365, pauseMs: 0, batchSize: 1 } }).retention;
    const report = await runRetention(store, config, { now: NOW });
    assert.equal(report.incomplete, false);
    assert.equal(report.deliveryEvents, 2);
    assert.equal(report.deliveryMessages, 1);
    assert.equal(report.bounceRaw, 1);
    assert.equal(report.trackingEvents, 1);
    assert.equal(report.operationLog, entriesBefore.length - 2 - (await store.db.selectFrom('operation_log').select('id').where('at', '>=', NOW - 365 * DAY).where('operation', '!=', 'retention.operation_log').execute()).length + 2);

    assert.deepEqual((await store.db.selectFrom('delivery_events').select('at').orderBy('at').execute()).map((e) => (NOW - Number(e.at)) / DAY), [179, 1]);
    assert.deepEqual((await store.db.selectFrom('delivery_messages').select('id').orderBy('id').execute()).map((m) => m.id).sort(), [doneId, waitingId].sort());
    assert.equal((await store.db.selectFrom('delivery_recipients').select('id').where('message_id', '=', oldId).execute()).length, 0);
    assert.equal((await loadBody(store.db, doneId))?.length, 0, 'the delivered message\'s body is gone');
    assert.match((await loadBody(store.db, waitingId))!.toString(), /BBBB/, 'the queued message is whole, its shared part too');
    assert.equal((await store.db.selectFrom('delivery_parts').select('hash').execute()).length, 1);
    assert.deepEqual((await store.db.selectFrom('inbound_messages').select('id').execute()).map((r) => r.id), ['in_new']);
    assert.equal((await store.db.selectFrom('tracking_events').select('id').execute()).length, 1);

    // The chain verifies from its anchor; removing the anchored entry is detected.
    assert.deepEqual(await verifyOperationLog(store.db), { ok: true, checked: (await store.db.selectFrom('operation_log').select('id').execute()).length });
    const left = await store.db.selectFrom('operation_log').select(['id', 'operation', 'at']).orderBy('id').execute();
    assert.ok(left.every((e) => e.operation === 'retention.operation_log' || Number(e.at) >= NOW - 365 * DAY));
    assert.ok(left.some((e) => e.operation === 'retention.operation_log'));
    // A second pass finds nothing more to do.
    const again = await runRetention(store, config, { now: NOW });
    assert.deepEqual([again.deliveryEvents, again.deliveryMessages, again.deliveryBodies, again.deliveryParts, again.operationLog], [0, 0, 0, 0, 0]);
    await store.db.deleteFrom('operation_log').where('id', '=', left[0]!.id).execute();
    const broken = await verifyOperationLog(store.db);
    assert.equal(broken.ok, false);
    assert.match(broken.firstBroken!.reason, /anchored/);
  });
});
