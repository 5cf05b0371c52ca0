import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { createAccount, updateAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { createDomain } from '../domains/service.ts';
import { createList } from '../subscribers/lists.ts';
import { subscribe, unsubscribe } from '../subscribers/subscribers.ts';
import { createTenant } from '../tenants/service.ts';
import { describeEachEngine } from '../testing/stores.ts';
import type { Store } from '../store/store.ts';
import { CampaignRunner } from './runner.ts';
import { approveCampaign, cancelCampaign, createCampaign, getCampaign, pauseCampaign, resumeCampaign, submitCampaign } from './service.ts';
import { createTemplate, previewStoredTemplate } from './templates.ts';
import { scheduleInstant } from './zoned-time.ts';

const author: Actor = { operator: 'olivia', userId: 'us_author', clientIp: '10.0.0.1', role: 'operator' };
const approver: Actor = { operator: 'arthur', userId: 'us_approver', clientIp: '10.0.0.2', role: 'auditor' };

test('schedule times: local wall clock in a time zone, or an instant with an offset', () => {
  assert.equal(scheduleInstant('2026-12-01T09:00', 'Asia/Shanghai'), Date.UTC(2026, 11, 1, 1, 0));
  assert.equal(scheduleInstant('2026-07-01T09:00', 'Europe/London'), Date.UTC(2026, 6, 1, 8, 0));
  assert.equal(scheduleInstant('2026-12-01T09:00:00+08:00', 'UTC'), Date.UTC(2026, 11, 1, 1, 0));
  assert.throws(() => scheduleInstant('tomorrow', 'UTC'), /not a date-time/);
  assert.throws(() => scheduleInstant('2026-12-01T09:00', 'Mars/Base'), /unknown time zone/);
});

async function world(store: Store, name: string, members: number, quota: number | null = null) {
  const tenant = await createTenant(store, approver, { name });
  const domain = `${name.toLowerCase()}.example.com`;
  await createDomain(store, approver, { tenantId: tenant.id, domain });
  const account = await createAccount(store, approver, { tenantId: tenant.id, name: `${name.toLowerCase()}-bulk`, password: 'long enough', quota });
  const scoped = { ...author, tenantId: tenant.id };
  const list = await createList(store, scoped, { tenantId: tenant.id, name: 'Customers' });
  for (let i = 0; i < members; i++) {
    await subscribe(store, scoped, { tenantId: tenant.id, listId: list.id, email: `c${i}@customer.example`, name: `客户${i}`, attributes: { tier: i % 2 ? 'gold' : 'basic', n: i } });
  }
  const template = await createTemplate(store, scoped, tenant.id, { name: 'Offer', subject: '{{ name }}，本月优惠', html: '<p>{{ name }} ({{ tier }})</p><a href="https://bank.example/x">go</a>' });
  return { tenant, domain, account, list, template, scoped };
}

describeEachEngine('campaigns', (get) => {
  test('templates: a broken one is refused on save, a missing variable is named at preview', async () => {
    const { store } = get();
    const w = await world(store, 'Tpl', 0);
    await assert.rejects(createTemplate(store, w.scoped, w.tenant.id, { name: 'bad', subject: '{% if %}', text: 'x' }), /subject/);
    await assert.rejects(previewStoredTemplate(store.db, w.tenant.id, w.template.id, { name: 'x' }), /tier/);
    const ok = await previewStoredTemplate(store.db, w.tenant.id, w.template.id, { name: '王五', tier: 'gold' });
    assert.equal(ok.subject, '王五，本月优惠');
    assert.match(ok.text, /王五 \(gold\)/);
  });

  test('four eyes, frozen recipients, keyset batches with a checkpoint: a restart neither skips nor repeats', async () => {
    const { store } = get();
    const w = await world(store, 'Fan', 7);
    const c = await createCampaign(store, w.scoped, w.tenant.id, { name: 'November', accountId: w.account.id, listId: w.list.id, templateId: w.template.id, from: `"信用卡中心" <offers@${w.domain}>` });
    await assert.rejects(approveCampaign(store, w.scoped, w.tenant.id, c.id), /cannot be approved/);
    await submitCampaign(store, w.scoped, w.tenant.id, c.id);
    await assert.rejects(approveCampaign(store, w.scoped, w.tenant.id, c.id), /someone other than its author/);
    // Not approved yet: nothing runs.
    const runner = new CampaignRunner(store, { nodeId: 'node-a', publicUrl: 'https://mail.bank.example', batchSize: 3 });
    assert.equal(await runner.step(), false);
    await approveCampaign(store, approver, null, c.id);
    assert.equal(await runner.step(), true); // freeze
    // Someone joining after the start is not in this campaign; someone leaving is skipped.
    await subscribe(store, w.scoped, { tenantId: w.tenant.id, listId: w.list.id, email: 'late@customer.example', attributes: { tier: 'x' } });
    await unsubscribe(store, w.scoped, { tenantId: w.tenant.id, listId: w.list.id, email: 'c5@customer.example' });
    assert.equal(await runner.step(), true); // batch 1: c0..c2
    // The node dies; another takes over once the lease has expired.
    const other = new CampaignRunner(store, { nodeId: 'node-b', publicUrl: 'https://mail.bank.example', batchSize: 3 });
    assert.equal(await other.step(), false, 'the lease still belongs to node-a');
    assert.equal(await other.drain(() => Date.now() + 120_000), 3); // batch c3..c5, batch c6, completion
    const done = await getCampaign(store.db, w.tenant.id, c.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual([done.progress.total, done.progress.queued, done.progress.skipped], [7, 6, 1]);
    const rows = await store.db.selectFrom('delivery_recipients').select('recipient').where('message_id', 'in', (eb) => eb.selectFrom('campaign_recipients').select('message_id').where('campaign_id', '=', c.id).$castTo<string>()).execute();
    assert.deepEqual(rows.map((r) => r.recipient).sort(), ['c0', 'c1', 'c2', 'c3', 'c4', 'c6'].map((x) => `${x}@customer.example`));
    const msg = await store.db.selectFrom('delivery_messages').selectAll().where('id', 'in', (eb) => eb.selectFrom('campaign_recipients').select('message_id').where('campaign_id', '=', c.id).where('email', '=', 'c3@customer.example').$castTo<string>()).executeTakeFirstOrThrow();
    assert.equal(msg.lane, 'bulk');
    const mail = await simpleParser(Buffer.from(msg.body));
    assert.equal(mail.subject, '客户3，本月优惠');
    assert.match(mail.html || '', /客户3 \(gold\)/);
    assert.match(mail.html || '', /https:\/\/mail\.bank\.example\/t\/c\//);
    assert.match(Buffer.from(msg.body).toString('latin1'), /^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    const ops = await store.db.selectFrom('operation_log').select('operation').where('object_id', '=', c.id).execute();
    assert.deepEqual(ops.map((o) => o.operation).sort(), ['campaign.approve', 'campaign.create', 'campaign.submit']);
  });

  test('filters, future schedules, pause and resume, quota pause, cancel withdraws queued mail', async () => {
    const { store } = get();
    const w = await world(store, 'Ctl', 6, 2);
    const runner = new CampaignRunner(store, { nodeId: 'n', publicUrl: 'https://m.example', batchSize: 1 });
    const later = await createCampaign(store, w.scoped, w.tenant.id, { name: 'Later', accountId: w.account.id, listId: w.list.id, templateId: w.template.id, from: `o@${w.domain}`, scheduledAt: '2099-01-01T09:00', timezone: 'Asia/Shanghai' });
    assert.equal(later.scheduledAt, '2099-01-01T01:00:00.000Z');
    await submitCampaign(store, w.scoped, w.tenant.id, later.id);
    await approveCampaign(store, approver, null, later.id);
    assert.equal(await runner.step(), false, 'scheduled in the future');

    const gold = await createCampaign(store, w.scoped, w.tenant.id, { name: 'Gold', accountId: w.account.id, listId: w.list.id, templateId: w.template.id, from: `o@${w.domain}`, filter: { tier: 'gold' } });
    await submitCampaign(store, w.scoped, w.tenant.id, gold.id);
    await approveCampaign(store, approver, null, gold.id);
    await runner.step(); // freeze: c1, c3, c5
    await runner.step(); // c1
    await pauseCampaign(store, w.scoped, w.tenant.id, gold.id);
    assert.equal(await runner.step(), false, 'paused campaigns do not send');
    await resumeCampaign(store, w.scoped, w.tenant.id, gold.id);
    await runner.step(); // c3 (quota 2 now spent)
    await runner.step(); // c5 refused for quota → paused with a note
    let g = await getCampaign(store.db, w.tenant.id, gold.id);
    assert.equal(g.status, 'paused');
    assert.match(g.note ?? '', /quota/);
    assert.deepEqual([g.progress.total, g.progress.queued], [3, 2]);
    await updateAccount(store, approver, w.account.id, { quota: 10 });
    await resumeCampaign(store, w.scoped, w.tenant.id, gold.id);
    await runner.drain();
    g = await getCampaign(store.db, w.tenant.id, gold.id);
    assert.equal(g.status, 'completed');
    assert.equal(g.progress.queued, 3);
    const queued = await store.db.selectFrom('delivery_recipients').select('state').where('message_id', 'in', (eb) => eb.selectFrom('campaign_recipients').select('message_id').where('campaign_id', '=', gold.id).$castTo<string>()).execute();
    assert.ok(queued.every((q) => q.state === 'queued'));
    await assert.rejects(cancelCampaign(store, w.scoped, w.tenant.id, gold.id), /completed campaign cannot be cancelled/);
    const third = await createCampaign(store, w.scoped, w.tenant.id, { name: 'Third', accountId: w.account.id, listId: w.list.id, templateId: w.template.id, from: `o@${w.domain}`, filter: { tier: 'basic' } });
    await submitCampaign(store, w.scoped, w.tenant.id, third.id);
    await approveCampaign(store, approver, null, third.id);
    await runner.step();
    await runner.step();
    await cancelCampaign(store, w.scoped, w.tenant.id, third.id);
    const withdrawn = await store.db.selectFrom('delivery_recipients').select('state').where('message_id', 'in', (eb) => eb.selectFrom('campaign_recipients').select('message_id').where('campaign_id', '=', third.id).$castTo<string>()).execute();
    assert.deepEqual(withdrawn.map((x) => x.state), ['cancelled']);
    assert.equal(await runner.step(), false);
    // Another tenant's operator cannot touch the campaign.
    await assert.rejects(pauseCampaign(store, w.scoped, 'tn_someone_else', later.id), /not found/);
  });

  test('cancelling mid-send: each queued recipient is cancelled by delivery with a row in the delivery log; one on the wire is left to finish', async () => {
    const { store } = get();
    const w = await world(store, 'Mid', 5);
    const runner = new CampaignRunner(store, { nodeId: 'n', publicUrl: 'https://m.example', batchSize: 1 });
    const c = await createCampaign(store, w.scoped, w.tenant.id, { name: 'Midway', accountId: w.account.id, listId: w.list.id, templateId: w.template.id, from: `o@${w.domain}` });
    await submitCampaign(store, w.scoped, w.tenant.id, c.id);
    await approveCampaign(store, approver, null, c.id);
    await runner.step(); // freeze 5 recipients
    for (let i = 0; i < 3; i++) await runner.step(); // three written, two still to come
    assert.equal((await getCampaign(store.db, w.tenant.id, c.id)).status, 'running');
    const mine = (await store.db.selectFrom('campaign_recipients').select('message_id').where('campaign_id', '=', c.id).where('message_id', 'is not', null).execute()).map((r) => r.message_id!);
    const queued = await store.db.selectFrom('delivery_recipients').select(['id', 'recipient']).where('message_id', 'in', mine).orderBy('id').execute();
    assert.equal(queued.length, 3);
    // A sender holds the first one right now.
    await store.db.updateTable('delivery_recipients').set({ lease_owner: 'sender-1', lease_expires_at: Date.now() + 60_000 }).where('id', '=', queued[0]!.id).execute();

    const cancelled = await cancelCampaign(store, w.scoped, w.tenant.id, c.id);
    assert.equal(cancelled.status, 'cancelled');
    const states = await store.db.selectFrom('delivery_recipients').select(['id', 'state']).where('message_id', 'in', mine).orderBy('id').execute();
    assert.deepEqual(states.map((r) => r.state), ['queued', 'cancelled', 'cancelled']);
    const events = await store.db.selectFrom('delivery_events').select(['recipient', 'outcome', 'reason', 'tenant_id', 'lane']).where('message_id', 'in', mine).orderBy('recipient').execute();
    assert.deepEqual(events, queued.slice(1).map((q) => ({ recipient: q.recipient, outcome: 'cancelled', reason: 'cancelled', tenant_id: w.tenant.id, lane: 'bulk' })).sort((a, b) => a.recipient.localeCompare(b.recipient)));
    assert.equal(await runner.step(), false, 'a cancelled campaign writes nothing more');
    // A second cancel is refused and logs nothing more.
    await assert.rejects(cancelCampaign(store, w.scoped, w.tenant.id, c.id), /cancelled campaign cannot be cancelled/);
    assert.equal((await store.db.selectFrom('delivery_events').select('id').where('message_id', 'in', mine).execute()).length, 2);
  });
});
