import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startArchive } from './index.ts';
import type { ArchiveComponent } from './index.ts';
import { createTenant } from '../tenants/service.ts';
import { TEST_ADMIN } from '../delivery/queue/fixtures.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import { startMailRig } from '../testing/mail-rig.ts';
import type { MailRig } from '../testing/mail-rig.ts';
import { describeEachEngine } from '../testing/stores.ts';

interface Item { id: number; messageId: string; headerMessageId: string; recipient: string; recipients: string[]; subject: string; sentAt: string; expiresAt: string; archivedAt: string; tags: string[] }

describeEachEngine('archive: every sent message kept as signed, searchable, tenant-scoped', (get) => {
  let rig: MailRig | undefined;
  let archive: ArchiveComponent | undefined;
  let app: FastifyInstance | undefined;

  test('SMTP submissions are archived as they went on the wire; search by text (Chinese 1, 2, 3+ characters), recipient, message id, tag, time; .eml download; policy expiry', async (t) => {
    const { store, dataDir } = get();
    t.after(async () => {
      await rig?.stop();
      await archive?.stop();
      await app?.close();
    });
    rig = await startMailRig(store, dataDir, { name: 'archive-bank', domain: 'statements.bank.test', delivery: { signed: (m, wire) => archive?.capture.signed(m.id, m.body, wire) } });
    archive = startArchive(store, rig.config, { nodeId: 'archive-test' });
    app = await testApp(store, dataDir);
    const admin = await sessionFor(app, store, 'administrator');
    const tenantId = rig.fixture.tenantId;
    const policy = await admin.request('PUT', `/api/v1/tenants/${tenantId}/archive-policy`, { defaultDays: 30, rules: [{ tag: 'statement', days: 2557 }, { tag: 'marketing', days: 365 }] });
    assert.equal(policy.statusCode, 200, policy.body);
    const badPolicy = await admin.request('PUT', `/api/v1/tenants/${tenantId}/archive-policy`, { defaultDays: 30, rules: [{ tag: 'x', days: 0 }] });
    assert.equal(badPolicy.statusCode, 400);
    assert.match(badPolicy.body, /rules\/0\/days/);

    const before = Date.now();
    await rig.submit({ to: 'wang@client.example', subject: '招商银行信用卡对账单 2026年11月', text: '尊敬的客户，您的账单已出，本期应还金额 1,234.00 元。', headers: { 'X-Fanout-Tag': 'statement' }, messageId: '<stmt-1@statements.bank.test>' });
    await rig.submit({ to: 'li@client.example', subject: 'Savings offer', text: 'Great rates on savings accounts this month.', headers: { 'X-Fanout-Tag': 'marketing' } });
    await rig.submit({ to: ['wang@client.example', 'zhao@client.example'], subject: '账户变动提醒', text: '您的账户发生变动，请核实。' });
    await rig.sink.waitForMessages(4, 20_000);
    await archive.tick();

    const search = async (query: string) => {
      const res = await admin.request('GET', `/api/v1/archive/messages?${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { items: Item[] }).items;
    };
    const subjects = async (query: string) => (await search(query)).map((i) => i.subject).sort();
    assert.deepEqual(await subjects(`q=${encodeURIComponent('对账单')}`), ['招商银行信用卡对账单 2026年11月']);
    assert.deepEqual(await subjects(`q=${encodeURIComponent('银行')}`), ['招商银行信用卡对账单 2026年11月']);
    assert.deepEqual(await subjects(`q=${encodeURIComponent('账')}`), ['招商银行信用卡对账单 2026年11月', '账户变动提醒']);
    assert.deepEqual(await subjects(`q=${encodeURIComponent('核实')}`), ['账户变动提醒'], 'two characters of the body text');
    assert.deepEqual(await subjects('q=SAVINGS'), ['Savings offer'], 'case-insensitive');
    assert.deepEqual(await subjects(`q=${encodeURIComponent('银行 savings')}`), [], 'every term must match');
    assert.deepEqual(await subjects('recipient=wang@client.example'), ['招商银行信用卡对账单 2026年11月', '账户变动提醒']);
    assert.deepEqual(await subjects('tag=marketing'), ['Savings offer']);
    assert.deepEqual(await subjects(`sender=notice@statements.bank.test&subject=offer`), ['Savings offer']);
    assert.deepEqual(await subjects(`from=${new Date(Date.now() + 60_000).toISOString()}`), []);
    assert.deepEqual(await subjects(`from=${new Date(before - 1000).toISOString()}&to=${new Date(Date.now() + 1000).toISOString()}`).then((s) => s.length), 3);
    const bad = await admin.request('GET', `/api/v1/archive/messages?from=${new Date().toISOString()}&to=${new Date(before - 5000).toISOString()}`);
    assert.equal(bad.statusCode, 400);

    const [stmt] = await search(`messageId=${encodeURIComponent('<stmt-1@statements.bank.test>')}`);
    assert.ok(stmt);
    assert.equal(stmt.recipient, 'wang@client.example');
    assert.ok(stmt.messageId.startsWith('msg_'));
    assert.deepEqual((await search(`messageId=${stmt.messageId}`)).map((i) => i.id), [stmt.id], 'the platform id finds it too');
    const days = (i: Item) => Math.round((Date.parse(i.expiresAt) - Date.parse(i.archivedAt)) / 86_400_000);
    assert.equal(days(stmt), 2557, 'statements: seven years by the tag rule');
    assert.equal(days((await search('tag=marketing'))[0]!), 365);
    assert.equal(days((await search(`q=${encodeURIComponent('变动')}`))[0]!), 30, 'the tenant default');

    // The .eml is the message as the receiving server got it: DKIM-signed.
    const eml = await admin.request('GET', `/api/v1/archive/messages/${stmt.id}.eml`);
    assert.equal(eml.statusCode, 200);
    assert.match(String(eml.headers['content-type']), /^message\/rfc822/);
    const received = rig.sink.messages.find((m) => m.recipients.includes('wang@client.example') && m.raw.includes('stmt-1@'));
    assert.ok(received);
    assert.ok(eml.rawPayload.equals(received.raw), 'archived bytes are the bytes delivered');
    assert.match(eml.rawPayload.subarray(0, 200).toString(), /^DKIM-Signature: v=1/);

    // Tenant scope: another tenant's operator sees nothing of it.
    const other = await createTenant(store, TEST_ADMIN, { name: 'other-archive-tenant', accountType: 'transactional' });
    const outsider = await sessionFor(app, store, 'operator', other.id);
    const theirs = await outsider.request('GET', `/api/v1/archive/messages?recipient=wang@client.example&tenantId=${tenantId}`);
    assert.equal(theirs.statusCode, 200);
    assert.deepEqual(theirs.json().items, []);
    assert.equal((await outsider.request('GET', `/api/v1/archive/messages/${stmt.id}.eml`)).statusCode, 404);
    const insider = await sessionFor(app, store, 'operator', tenantId);
    assert.equal((await insider.request('GET', `/api/v1/archive/messages/${stmt.id}.eml`)).statusCode, 200);
    const audit = await store.db.selectFrom('operation_log').select('operation').where('operation', '=', 'archive.policy').execute();
    assert.equal(audit.length, 1, 'the refused policy changed nothing');
  });
});
