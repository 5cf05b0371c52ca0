import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { AppError } from '../core/errors.ts';
import { createDomain } from '../domains/service.ts';
import { buildHttpApp } from '../http/app.ts';
import type { Store } from '../store/store.ts';
import { httpDeps } from '../app/capabilities.ts';
import { testConfig } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { createList, updateList } from './lists.ts';
import { subscriberPublicRoutes } from './public-routes.ts';
import { getSubscriber } from './subscribers.ts';
import { makeTenant, operator } from '../testing/subscribers.ts';

const system: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'system' };
const form = (email: string, name = '') => ({ 'content-type': 'application/x-www-form-urlencoded', payload: `email=${encodeURIComponent(email)}&name=${encodeURIComponent(name)}` });

async function queuedTo(store: Store, email: string): Promise<Buffer[]> {
  const rows = await store.db.selectFrom('delivery_recipients as r').innerJoin('delivery_messages as m', 'm.id', 'r.message_id').select('m.body').where('r.recipient', '=', email).execute();
  return rows.map((r) => r.body);
}

describeEachEngine('hosted subscribe form', (get) => {
  test('double opt-in: the form mails a confirmation link; one click confirms; no repeated mails; rate-limited', async () => {
    const { store, dataDir } = get();
    const app = await buildHttpApp(httpDeps(store, testConfig(dataDir)), [], {}, [subscriberPublicRoutes]);
    await makeTenant(store, 'tn_f');
    const acc = await createAccount(store, system, { tenantId: 'tn_f', name: 'news-f', password: 'a-long-password-1' });
    await createDomain(store, system, { tenantId: 'tn_f', domain: 'news.bank.example' });
    await assert.rejects(createList(store, operator, { tenantId: 'tn_f', name: 'x', doubleOptIn: true, form: { enabled: true } }),
      (e: unknown) => e instanceof AppError && /set form.accountId and form.from first/.test(e.message));
    const list = await createList(store, operator, { tenantId: 'tn_f', name: '理财早报', doubleOptIn: true, form: { enabled: true, accountId: acc.id, from: '理财中心 <news@news.bank.example>' } });

    const shown = await app.inject({ method: 'GET', url: `/s/${list.id}` });
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /<h1>理财早报<\/h1>[\s\S]*<input type="email" name="email"/);
    assert.equal((await app.inject({ method: 'GET', url: '/s/ls_nope' })).statusCode, 404);

    const bad = await app.inject({ method: 'POST', url: `/s/${list.id}`, headers: { 'content-type': form('x')['content-type'] }, payload: form('not-an-address').payload });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /电子邮箱无效/);

    const ok = await app.inject({ method: 'POST', url: `/s/${list.id}`, headers: { 'content-type': form('x')['content-type'], 'accept-language': 'en' }, payload: form('Gao@Example.test', '高').payload });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.match(ok.body, /check your inbox/);
    assert.equal((await getSubscriber(store, system, 'tn_f', { email: 'gao@example.test' })).memberships[0]?.status, 'unconfirmed');
    const mails = await queuedTo(store, 'gao@example.test');
    assert.equal(mails.length, 1);
    const parsed = await simpleParser(mails[0]!);
    assert.match(parsed.subject ?? '', /请确认订阅「理财早报」/);
    const link = /http:\/\/localhost:8080\/s\/confirm\/[A-Za-z0-9_.-]+/.exec(parsed.text ?? '')?.[0];
    assert.ok(link, parsed.text);

    // Signing up again while unconfirmed sends nothing new (no mail bombing through the form).
    await app.inject({ method: 'POST', url: `/s/${list.id}`, headers: { 'content-type': form('x')['content-type'] }, payload: form('gao@example.test').payload });
    assert.equal((await queuedTo(store, 'gao@example.test')).length, 1);

    const confirmed = await app.inject({ method: 'GET', url: new URL(link).pathname });
    assert.equal(confirmed.statusCode, 200);
    assert.equal((await getSubscriber(store, system, 'tn_f', { email: 'gao@example.test' })).memberships[0]?.status, 'subscribed');

    // Five sign-ups per client and list in ten minutes; the sixth waits.
    const more = [];
    for (let i = 0; i < 3; i++) more.push(await app.inject({ method: 'POST', url: `/s/${list.id}`, headers: { 'content-type': form('x')['content-type'] }, payload: form(`r${i}@example.test`).payload }));
    assert.deepEqual(more.map((r) => r.statusCode), [200, 200, 429]);
    assert.ok(Number(more[2]!.headers['retry-after']) > 0);
    await app.close();
  });

  test('a single opt-in form subscribes at once and mails nothing; a disabled form is not found', async () => {
    const { store, dataDir } = get();
    const app = await buildHttpApp(httpDeps(store, testConfig(dataDir)), [], {}, [subscriberPublicRoutes]);
    await makeTenant(store, 'tn_g');
    const list = await createList(store, operator, { tenantId: 'tn_g', name: 'events', form: { enabled: true } });
    const res = await app.inject({ method: 'POST', url: `/s/${list.id}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'email=li%40example.test' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /订阅成功/);
    assert.equal((await getSubscriber(store, system, 'tn_g', { email: 'li@example.test' })).memberships[0]?.status, 'subscribed');
    assert.equal((await queuedTo(store, 'li@example.test')).length, 0);
    await updateList(store, operator, { tenantId: 'tn_g', listId: list.id, form: { enabled: false } });
    assert.equal((await app.inject({ method: 'GET', url: `/s/${list.id}` })).statusCode, 404);
    await app.close();
  });
});
