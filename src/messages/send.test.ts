import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../accounts/apikeys.ts';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { createDomain } from '../domains/service.ts';
import { createTenant } from '../tenants/service.ts';
import { testApp } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import type { Store } from '../store/store.ts';

const admin: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'administrator' };

async function setup(store: Store, name: string, quota: number | null = null) {
  const tenant = await createTenant(store, admin, { name });
  const domain = `${name.toLowerCase()}.example.com`;
  await createDomain(store, admin, { tenantId: tenant.id, domain });
  const account = await createAccount(store, admin, { tenantId: tenant.id, name: `${name.toLowerCase()}-api`, password: 'long enough', quota });
  const { key } = await createApiKey(store, admin, { tenantId: tenant.id, accountId: account.id });
  return { tenant, account, key, domain };
}

describeEachEngine('HTTP send API', (get) => {
  let app: FastifyInstance;
  let bank: Awaited<ReturnType<typeof setup>>;
  let bulkMail: { html: string; headers: string };
  const send = (key: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/v1/messages', headers: { authorization: `Bearer ${key}`, ...headers }, payload: payload as object });
  const count = async (table: 'delivery_messages' | 'delivery_recipients') => Number((await get().store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  test('setup', async () => {
    const { store, dataDir } = get();
    app = await testApp(store, dataDir, { http: { publicUrl: 'https://mail.bank.example', host: '127.0.0.1', port: 0, trustProxy: false, bodyLimitBytes: 50_000_000 } });
    bank = await setup(store, 'Bank', 5);
    const tenants = await app.inject({ method: 'GET', url: '/api/v1/tenants', headers: { authorization: `Bearer ${bank.key}` } });
    assert.deepEqual(tenants.json().items.map((t: { domains: string[]; purchased: number }) => [t.domains, t.purchased]), [[[bank.domain], 5]]);
  });

  test('a batch: one message per recipient, personalised, Chinese encoded, bulk carries one-click unsubscribe', async () => {
    const { store } = get();
    const res = await send(bank.key, {
      from: `"招商银行 信用卡中心" <statements@${bank.domain}>`, stream: 'bulk',
      subject: '{{ name }}，您的{{ month }}月账单', html: '<p>尊敬的 {{ name }}：</p>{% if amount %}<p>本期应还 {{ amount }} 元</p>{% endif %}<p><a href="https://bank.example/offer?a=1&amp;b=2">offer</a></p>', vars: { month: '11' },
      recipients: [{ email: 'zhang@customer.example', name: '张三', vars: { name: '张三', amount: '1,024.00' } }, { email: 'Li@Customer.example', vars: { name: '李四' } }],
      tags: ['statement'],
    });
    assert.equal(res.statusCode, 202, res.body);
    const { messages } = res.json();
    assert.deepEqual(messages.map((m: { email: string; status: string }) => [m.email, m.status]), [['zhang@customer.example', 'queued'], ['li@customer.example', 'queued']]);
    const row = await store.db.selectFrom('delivery_messages').selectAll().where('id', '=', messages[0].messageId).executeTakeFirstOrThrow();
    assert.equal(row.lane, 'bulk');
    assert.equal(row.mail_from, `statements@${bank.domain}`);
    const mail = await simpleParser(Buffer.from(row.body));
    assert.equal(mail.subject, '张三，您的11月账单');
    assert.equal(mail.from?.value[0]?.name, '招商银行 信用卡中心');
    assert.match(mail.html || '', /本期应还 1,024.00 元/);
    assert.match(mail.text || '', /尊敬的 张三/);
    const rawHeaders = Buffer.from(row.body).toString('latin1').split('\r\n\r\n')[0]!.replace(/\r\n\s+/g, ' ');
    assert.match(rawHeaders, /^List-Unsubscribe: <https:\/\/mail\.bank\.example\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+>, <mailto:unsubscribe@bounces\.bank\.example\.com\?subject=unsubscribe%20[A-Za-z0-9_.-]+>$/m);
    assert.match(rawHeaders, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    assert.equal(mail.headers.get('x-fanout-tags'), 'statement');
    const second = await simpleParser(Buffer.from((await store.db.selectFrom('delivery_messages').select('body').where('id', '=', messages[1].messageId).executeTakeFirstOrThrow()).body));
    assert.doesNotMatch(second.html || '', /应还/);
    assert.equal((await store.db.selectFrom('sending_accounts').select('used').where('id', '=', bank.account.id).executeTakeFirstOrThrow()).used, 2);
    bulkMail = { html: mail.html || '', headers: rawHeaders };
  });

  test('recipient endpoints: GET confirms without acting, one-click POST unsubscribes, signed click and open are recorded', async () => {
    const { store } = get();
    const path = /^List-Unsubscribe: <https:\/\/mail\.bank\.example(\/u\/[^>]+)>/m.exec(bulkMail.headers)![1]!;
    const page = await app.inject({ method: 'GET', url: path });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /zhang@customer\.example/);
    assert.match(page.body, /确认退订/);
    assert.match((await app.inject({ method: 'GET', url: path, headers: { 'accept-language': 'en-GB' } })).body, /Unsubscribe/);
    assert.equal(await store.db.selectFrom('suppressions').select('address').where('address', '=', 'zhang@customer.example').executeTakeFirst(), undefined);
    const forged = await app.inject({ method: 'POST', url: `${path.slice(0, -3)}xyz`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    assert.equal(forged.statusCode, 400);
    // A recipient who is also logged in to the console (same host) unsubscribes the same way:
    // recipient pages act on the signed token, not on the session, so no CSRF header is asked for.
    const { sessionFor } = await import('../testing/http.ts');
    const consoleUser = await sessionFor(app, store, 'support');
    const post = await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: consoleUser.cookie }, payload: 'List-Unsubscribe=One-Click' });
    assert.equal(post.statusCode, 200);
    const row = await store.db.selectFrom('suppressions').selectAll().where('address', '=', 'zhang@customer.example').executeTakeFirstOrThrow();
    assert.equal(row.reason, 'unsubscribe');
    await store.db.updateTable('sending_accounts').set({ quota: 100 }).where('id', '=', bank.account.id).execute();
    const later = { from: `ops@${bank.domain}`, subject: 'x', text: 'x', recipients: [{ email: 'zhang@customer.example' }] };
    assert.equal((await send(bank.key, { ...later, stream: 'bulk' })).json().messages[0].status, 'suppressed');
    assert.equal((await send(bank.key, { ...later, stream: 'transactional' })).json().messages[0].status, 'queued');

    const click = /href="https:\/\/mail\.bank\.example(\/t\/c\/[^"]+)"/.exec(bulkMail.html)![1]!;
    const go = await app.inject({ method: 'GET', url: click, headers: { 'user-agent': 'TestMail/1.0' } });
    assert.equal(go.statusCode, 302);
    assert.equal(go.headers.location, 'https://bank.example/offer?a=1&b=2');
    const tampered = click.replace(/\.([A-Za-z0-9_-]{4})/, '.AAAA');
    assert.equal((await app.inject({ method: 'GET', url: tampered })).statusCode, 400);
    const open = /src="https:\/\/mail\.bank\.example(\/t\/o\/[^"]+)"/.exec(bulkMail.html)![1]!;
    const pixel = await app.inject({ method: 'GET', url: open });
    assert.equal(pixel.headers['content-type'], 'image/gif');
    const events = await store.db.selectFrom('tracking_events').select(['kind', 'email', 'url', 'user_agent']).orderBy('id').execute();
    assert.deepEqual(events.map((e) => [e.kind, e.email]), [['unsubscribe', 'zhang@customer.example'], ['click', 'zhang@customer.example'], ['open', 'zhang@customer.example']]);
    assert.equal(events[1]?.user_agent, 'TestMail/1.0');
  });

  test('Idempotency-Key: a retry sends nothing twice; another body under the same key is refused', async () => {
    const body = { from: `ops@${bank.domain}`, subject: 'Alert', text: 'Login from a new device', recipients: [{ email: 'a@customer.example' }] };
    const first = await send(bank.key, body, { 'idempotency-key': 'req-42' });
    assert.equal(first.statusCode, 202);
    const before = await count('delivery_recipients');
    const again = await send(bank.key, body, { 'idempotency-key': 'req-42' });
    assert.equal(again.statusCode, 200);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.json(), first.json());
    assert.equal(await count('delivery_recipients'), before);
    const other = await send(bank.key, { ...body, text: 'different' }, { 'idempotency-key': 'req-42' });
    assert.equal(other.statusCode, 409);
  });

  test('every rejection is a problem naming the field, and nothing is queued', async () => {
    const { store } = get();
    const other = await setup(store, 'Other');
    const before = [await count('delivery_messages'), await count('delivery_recipients')];
    const usedBefore = (await store.db.selectFrom('sending_accounts').select('used').where('id', '=', bank.account.id).executeTakeFirstOrThrow()).used;
    await store.db.updateTable('sending_accounts').set({ quota: usedBefore + 3 }).where('id', '=', bank.account.id).execute();
    const ok = { from: `ops@${bank.domain}`, subject: 'Hi {{ name }}', text: 'x', recipients: [{ email: 'a@customer.example', vars: { name: 'A' } }] };
    const cases: [unknown, number, RegExp][] = [
      [{ ...ok, colour: 1 }, 400, /\/body\/colour/],
      [{ ...ok, recipients: [] }, 400, /recipients/],
      [{ ...ok, recipients: Array.from({ length: 1001 }, (_, i) => ({ email: `u${i}@x.example` })) }, 400, /recipients/],
      [{ ...ok, recipients: [ok.recipients[0], { email: 'b@customer.example', vars: {} }] }, 400, /\/body\/recipients\/1\/vars/],
      [{ ...ok, recipients: [ok.recipients[0], ok.recipients[0], { email: 'not an address', vars: { name: 'x' } }] }, 400, /\/body\/recipients\/2\/email/],
      [{ ...ok, from: `ops@${other.domain}` }, 400, /not a sending domain of this tenant/],
      [{ ...ok, from: 'ops@unknown.example' }, 400, /not a sending domain/],
      [{ ...ok, headers: { 'Message-ID': '<x@y>' } }, 400, /\/body\/headers\/Message-ID/],
      [{ ...ok, attachments: [{ filename: 'a.pdf', content: '***' }] }, 400, /base64/],
      [{ ...ok, stream: 'marketing' }, 400, /stream/],
      [{ ...ok, subject: '{% if %}' }, 400, /subject/],
      [{ ...ok, recipients: Array.from({ length: 4 }, (_, i) => ({ email: `q${i}@x.example`, vars: { name: 'q' } })) }, 403, /quota/],
    ];
    for (const [payload, status, pattern] of cases) {
      const res = await send(bank.key, payload);
      assert.equal(res.statusCode, status, `${JSON.stringify(payload).slice(0, 120)} → ${res.body}`);
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
      assert.match(res.body, pattern);
    }
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/messages', payload: ok })).statusCode, 401);
    assert.deepEqual([await count('delivery_messages'), await count('delivery_recipients')], before);
    assert.equal((await store.db.selectFrom('sending_accounts').select('used').where('id', '=', bank.account.id).executeTakeFirstOrThrow()).used, usedBefore);
  });

  test('content from a stored template by templateId; another tenant\'s template is refused', async () => {
    const { store } = get();
    const { createTemplate } = await import('../templates/stored.ts');
    const t = await createTemplate(store, { ...admin, tenantId: bank.tenant.id }, bank.tenant.id, { name: 'OTP', subject: '验证码 {{ code }}', text: '您的验证码是 {{ code }}' });
    const res = await send(bank.key, { from: `otp@${bank.domain}`, templateId: t.id, recipients: [{ email: 'otp@customer.example', vars: { code: '123456' } }] });
    assert.equal(res.statusCode, 202, res.body);
    const body = (await store.db.selectFrom('delivery_messages').select('body').where('id', '=', res.json().messages[0].messageId).executeTakeFirstOrThrow()).body;
    const mail = await simpleParser(Buffer.from(body));
    assert.equal(mail.subject, '验证码 123456');
    assert.match(mail.text || '', /您的验证码是 123456/);
    assert.equal((await send(bank.key, { from: `otp@${bank.domain}`, templateId: t.id, subject: 'x', recipients: [{ email: 'a@b.example', vars: { code: '1' } }] })).statusCode, 400);
    const stranger = await setup(store, 'TplThief');
    const theft = await send(stranger.key, { from: `otp@${stranger.domain}`, templateId: t.id, recipients: [{ email: 'a@b.example', vars: { code: '1' } }] });
    assert.equal(theft.statusCode, 400);
    assert.match(theft.body, /not a template of this tenant/);
    assert.equal((await send(bank.key, { from: `otp@${bank.domain}`, recipients: [{ email: 'a@b.example' }] })).statusCode, 400);
  });

  test('attachments by upload id, per recipient; another tenant cannot use the upload', async () => {
    const { store } = get();
    const pdf = Buffer.from('%PDF-1.4\n% statement for 张三\n%%EOF\n');
    const up = await app.inject({ method: 'POST', url: '/api/v1/uploads', headers: { authorization: `Bearer ${bank.key}` }, payload: { filename: 'statement.pdf', contentType: 'application/pdf', content: pdf.toString('base64') } });
    assert.equal(up.statusCode, 201, up.body);
    const res = await send(bank.key, { from: `ops@${bank.domain}`, subject: 'Statement', text: 'attached', recipients: [{ email: 'z@customer.example', attachments: [{ filename: '2026-11.pdf', uploadId: up.json().id }] }] });
    assert.equal(res.statusCode, 202, res.body);
    const body = (await store.db.selectFrom('delivery_messages').select('body').where('id', '=', res.json().messages[0].messageId).executeTakeFirstOrThrow()).body;
    const mail = await simpleParser(Buffer.from(body));
    assert.equal(mail.attachments.length, 1);
    assert.equal(mail.attachments[0]?.filename, '2026-11.pdf');
    assert.deepEqual(mail.attachments[0]?.content, pdf);
    const stranger = await setup(store, 'Stranger');
    await createDomain(store, admin, { tenantId: stranger.tenant.id, domain: 'stranger2.example.com' }).catch(() => undefined);
    const theft = await send(stranger.key, { from: `ops@${stranger.domain}`, subject: 'x', text: 'x', recipients: [{ email: 'z@customer.example', attachments: [{ filename: 'x.pdf', uploadId: up.json().id }] }] });
    assert.equal(theft.statusCode, 400);
    assert.match(theft.body, /unknown upload/);
    await app.close();
  });
});
