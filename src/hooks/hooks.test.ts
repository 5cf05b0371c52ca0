import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { loadAppConfig } from '../app/capabilities.ts';
import { startMailRig } from '../testing/mail-rig.ts';
import { SmtpSink } from '../testing/smtp-sink.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { HookHost, routeChooser, submissionInspector } from './index.ts';
import type { HooksConfig } from './index.ts';

const root = path.resolve(import.meta.dirname, '../..');
const hooksConfig = (modules: string[], over: Partial<HooksConfig> = {}): HooksConfig => ({ ...loadAppConfig({ env: {}, file: null }).hooks, modules: modules.map((m) => path.join(root, m)), ...over });
const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (err: { responseCode?: number; response?: string }) => `${err.responseCode} ${err.response ?? ''}`);

describeEachEngine('extension hooks, through real SMTP submission and delivery', (get) => {
  test('refuse-card-numbers: an unmasked Luhn-valid card number is refused with 550 5.7.1; masked and non-Luhn numbers pass', async (t) => {
    const { store, dataDir } = get();
    const host = (await HookHost.start(hooksConfig(['examples/hooks/refuse-card-numbers.ts'], { timeoutMs: 5000 })))!;
    const rig = await startMailRig(store, dataDir, { name: 'pan', domain: 'pan.bank.test', delivery: { inspect: submissionInspector(host) } });
    t.after(async () => {
      await rig.stop();
      await host.close();
    });
    const refused = await refusal(rig.submit({ to: 'a@client.example', subject: 'Your card', text: 'Card number 4111 1111 1111 1111, expiry 12/29.' }));
    assert.match(refused, /^550 550 5\.7\.1 .*ending 1111/);
    const inHtml = await refusal(rig.submit({ to: 'a@client.example', subject: '信用卡', html: '<p>卡号：<b>5500-0000-0000-0004</b></p>' }));
    assert.match(inHtml, /^550 .*5\.7\.1/);
    assert.equal(await refusal(rig.submit({ to: 'b@client.example', subject: 'Masked', text: 'Card 4111 **** **** 1111 was charged.' })), 'accepted');
    assert.equal(await refusal(rig.submit({ to: 'c@client.example', subject: 'Reference', text: 'Reference 4111 1111 1111 1112 (not a card).' })), 'accepted');
    await rig.sink.waitForMessages(2, 20_000);
    assert.deepEqual(rig.sink.messages.flatMap((m) => m.recipients).sort(), ['b@client.example', 'c@client.example']);
    const queued = await store.db.selectFrom('delivery_recipients').select('recipient').where('tenant_id', '=', rig.fixture.tenantId).execute();
    assert.equal(queued.length, 2, 'refused messages were never queued');
  });

  test('partner-relay routes one recipient domain through the partner relay; statement-copy posts statements to the bank archive over HTTP', async (t) => {
    const { store, dataDir } = get();
    const partner = await SmtpSink.start({ starttls: false });
    const copies: { body: string; tenant: string }[] = [];
    const bank = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        copies.push({ body, tenant: String(req.headers['x-fanout-tenant']) });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: `copy-${copies.length}` }));
      });
    });
    await new Promise<void>((r) => bank.listen(0, '127.0.0.1', r));
    process.env.PARTNER_DOMAIN = 'partner.example';
    process.env.PARTNER_RELAY = `127.0.0.1:${partner.port}`;
    process.env.BANK_ARCHIVE_URL = `http://127.0.0.1:${(bank.address() as { port: number }).port}/statements`;
    const host = (await HookHost.start(hooksConfig(['examples/hooks/partner-relay.ts', 'examples/hooks/statement-copy.ts'], { timeoutMs: 5000 })))!;
    const rig = await startMailRig(store, dataDir, { name: 'relay', domain: 'relay.bank.test', delivery: { inspect: submissionInspector(host), chooseRoute: routeChooser(host) } });
    t.after(async () => {
      await rig.stop();
      await host.close();
      await partner.close();
      bank.closeAllConnections();
    });
    await rig.submit({ to: 'ops@partner.example', subject: 'Settlement file', text: 'Daily settlement.' });
    await rig.submit({ to: 'someone@elsewhere.example', subject: '2026年11月对账单', text: '您的对账单', headers: { 'X-Fanout-Tag': 'statement' } });
    await partner.waitForMessages(1, 20_000);
    await rig.sink.waitForMessages(1, 20_000);
    assert.deepEqual(partner.messages.flatMap((m) => m.recipients), ['ops@partner.example']);
    assert.deepEqual(rig.sink.messages.flatMap((m) => m.recipients), ['someone@elsewhere.example']);
    assert.equal(copies.length, 1, 'only the statement is copied');
    assert.match(copies[0]!.body, /对账单|=E5|Subject:/);
    assert.equal(copies[0]!.tenant, rig.fixture.tenantId);
    assert.match(rig.sink.messages[0]!.raw.toString(), /^X-Bank-Archive-Id: copy-1\r$/m);
    // The bank's archive down: the statement is not accepted (temporary failure), so it is submitted again later.
    await new Promise((r) => bank.close(r));
    assert.match(await refusal(rig.submit({ to: 'someone@elsewhere.example', subject: '12月对账单', text: '对账单', headers: { 'X-Fanout-Tag': 'statement' } })), /^451 .*4\.3\.0/);
    assert.equal(copies.length, 1);
  });

  test('a hook that hangs or throws answers the fallback (451 4.3.0 by default) and is reported; other messages do not wait for it', async (t) => {
    const { store, dataDir } = get();
    // A limit long enough that, on a loaded machine, the other submissions are done well within it.
    const host = (await HookHost.start(hooksConfig(['src/hooks/testing/unruly.ts'], { timeoutMs: 4000, workersPerModule: 2 })))!;
    const rig = await startMailRig(store, dataDir, { name: 'unruly', domain: 'unruly.bank.test', delivery: { inspect: submissionInspector(host) } });
    t.after(async () => {
      await rig.stop();
      await host.close();
    });
    const started = Date.now();
    let hangAnsweredAt = 0;
    const hang = refusal(rig.submit({ to: 'h@client.example', subject: 'please hang', text: 'x' })).then((r) => {
      hangAnsweredAt = Date.now();
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    const others = await Promise.all([1, 2, 3, 4, 5].map(async (i) => {
      const r = await refusal(rig.submit({ to: `n${i}@client.example`, subject: `normal ${i}`, text: 'x' }));
      return { r, at: Date.now() };
    }));
    assert.deepEqual(others.map((o) => o.r), ['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
    assert.equal(hangAnsweredAt, 0, 'the other messages were accepted while the hung hook was still running');
    assert.match(await hang, /^451 .*4\.3\.0/);
    assert.ok(hangAnsweredAt - started >= 4000, `the hung call was answered at its limit (${hangAnsweredAt - started} ms)`);
    assert.ok(others.every((o) => o.at < hangAnsweredAt));
    assert.match(await refusal(rig.submit({ to: 't@client.example', subject: 'throw now', text: 'x' })), /^451 .*4\.3\.0/);
    assert.match(await refusal(rig.submit({ to: 'u@client.example', subject: 'nonsense', text: 'x' })), /^451 .*4\.3\.0/);
    // The worker that hung was replaced: the module still answers.
    assert.equal(await refusal(rig.submit({ to: 'after@client.example', subject: 'after the stall', text: 'x' })), 'accepted');
    await rig.sink.waitForMessages(6, 20_000);
    assert.ok(rig.sink.messages.every((m) => /^X-Checked-By: unruly\r$/m.test(m.raw.toString())), 'headers a hook adds go out with the message');
    const [stats] = host.stats();
    assert.equal(stats!.timeouts, 1);
    assert.equal(stats!.failures, 3);
    assert.match(stats!.lastError ?? '', /answered neither|broke/);
  });

  test('fallback "continue": a broken hook is skipped and the message accepted', async (t) => {
    const { store, dataDir } = get();
    const host = (await HookHost.start(hooksConfig(['src/hooks/testing/unruly.ts'], { timeoutMs: 3000, fallback: 'continue' })))!;
    const rig = await startMailRig(store, dataDir, { name: 'lenient', domain: 'lenient.bank.test', delivery: { inspect: submissionInspector(host) } });
    t.after(async () => {
      await rig.stop();
      await host.close();
    });
    assert.equal(await refusal(rig.submit({ to: 'x@client.example', subject: 'throw', text: 'x' })), 'accepted');
    await rig.sink.waitForMessages(1, 20_000);
  });
});
