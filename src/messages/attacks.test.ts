import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { createApiKey } from '../accounts/apikeys.ts';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { loadBody } from '../delivery/queue/bodies.ts';
import { createDomain } from '../domains/service.ts';
import type { Store } from '../store/store.ts';
import { createTenant } from '../tenants/service.ts';
import { startTestServer } from '../testing/server.ts';
import type { TestServer } from '../testing/server.ts';
import { describeEachEngine } from '../testing/stores.ts';

const admin: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'administrator' };

/** The attacks of the outside test run against the send API, replayed on a running Fanout. */
describeEachEngine('send API under attack', (get) => {
  let srv: TestServer;
  let key: string;
  let accountId: string;
  let from: string;
  const send = (body: unknown, k = key) => srv.fetch('/api/v1/messages', { method: 'POST', headers: { authorization: `Bearer ${k}` }, json: body });
  const count = async (store: Store) => Number((await store.db.selectFrom('delivery_messages').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  /** Refused with 400 problem+json naming `field`, nothing queued, the node still answering. */
  const refused = async (res: Response, field: string | RegExp, detail?: RegExp): Promise<{ detail: string; errors: { field: string; message: string }[]; requestId: string }> => {
    const body = await res.text();
    assert.equal(res.status, 400, body);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const problem = JSON.parse(body) as { detail: string; errors: { field: string; message: string }[]; requestId: string };
    const fields = problem.errors.map((e) => e.field);
    assert.ok(fields.some((f) => (typeof field === 'string' ? f === field : field.test(f))), `${String(field)} not in ${JSON.stringify(fields)}`);
    if (detail) assert.match(problem.detail, detail);
    assert.match(problem.requestId, /^req_/);
    assert.equal((await srv.fetch('/healthz')).status, 200);
    return problem;
  };

  test('setup: a running Fanout, a tenant with a sending domain and an API key', async () => {
    const t = get();
    srv = await startTestServer(t, { templates: { renderTimeMs: 2_000, renderMemory: 1_000_000, requestMessageBytes: 128 * 1024 * 1024 } });
    const tenant = await createTenant(t.store, admin, { name: 'Attacked' });
    await createDomain(t.store, admin, { tenantId: tenant.id, domain: 'attacked.example.com' });
    const account = await createAccount(t.store, admin, { tenantId: tenant.id, name: 'attacked-api', password: 'long enough' });
    accountId = account.id;
    key = (await createApiKey(t.store, admin, { tenantId: tenant.id, accountId: account.id })).key;
    from = 'ops@attacked.example.com';
    assert.equal((await send({ from, subject: 'ok', text: 'plain', recipients: [{ email: 'a@customer.example' }] })).status, 202);
  });

  test('templates cannot read server files: include, render, layout and mj-include are refused, nothing is mailed', async () => {
    const { store } = get();
    const before = await count(store);
    const attempts: [Record<string, string>, string][] = [
      [{ text: "{% include 'package.json' %}" }, '/body/text'],
      [{ text: "{% render 'data/fanout.db' %}" }, '/body/text'],
      [{ html: "<p>{% include 'data/tls/submission-key.pem' %}</p>" }, '/body/html'],
      [{ html: "{% layout 'package.json' %}x" }, '/body/html'],
      [{ text: 'x', subject: "{% include '/etc/passwd' %}" }, '/body/subject'],
      [{ text: '{% assign f = "package.json" %}{% include f %}' }, '/body/text'],
      [{ mjml: '<mjml><mj-body><mj-include path="package.json" /></mj-body></mjml>' }, '/body/mjml'],
    ];
    for (const [content, field] of attempts) {
      const res = await send({ from, subject: 'files', ...content, recipients: [{ email: 'x@customer.example' }] });
      const problem = await refused(res, field, /no access to files/);
      assert.doesNotMatch(JSON.stringify(problem), /"name":\s*"fanout"|PRIVATE KEY|SQLite format/);
    }
    assert.equal(await count(store), before);
  });

  test('stored templates, preview, test send and campaigns have no file access either', async () => {
    const t = get();
    const { createUser } = await import('../users/service.ts');
    const tenantId = (await t.store.db.selectFrom('tenants').select('id').where('name', '=', 'Attacked').executeTakeFirstOrThrow()).id;
    await createUser(t.store, admin, { username: 'attacked-operator', password: 'test-password-1', role: 'operator', tenantId });
    const login = await srv.fetch('/api/v1/auth/login', { method: 'POST', json: { username: 'attacked-operator', password: 'test-password-1' } });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const csrf = ((await login.json()) as { csrfToken: string }).csrfToken;
    const op = (method: string, path: string, json?: unknown) => srv.fetch(path, { method, headers: { cookie, 'x-csrf-token': csrf }, ...(json === undefined ? {} : { json }) });
    await refused(await op('POST', '/api/v1/templates', { name: 'leak', subject: 's', text: "{% include 'package.json' %}" }), 'text', /no access to files/);
    // A template stored before this check existed: preview, test send, API send and the
    // campaign runner all refuse it rather than read a file.
    const now = Date.now();
    await t.store.db.insertInto('templates').values({ id: 'tp_legacy', tenant_id: tenantId, name: 'legacy', subject: 's', html: null, text: "{% render 'package.json' %}", mjml: null, created_by: 'old', created_at: now, updated_at: now }).execute();
    await refused(await op('POST', '/api/v1/templates/tp_legacy/preview', { vars: {} }), /text$/, /no access to files/);
    await refused(await op('POST', '/api/v1/templates/tp_legacy/test-send', { accountId, from, to: 'me@customer.example' }), /text$/, /no access to files/);
    await refused(await send({ from, templateId: 'tp_legacy', recipients: [{ email: 'x@customer.example' }] }), /text$/, /no access to files/);

    const { createList } = await import('../subscribers/lists.ts');
    const { subscribe } = await import('../subscribers/subscribers.ts');
    const { createCampaign, submitCampaign, approveCampaign, getCampaign } = await import('../campaigns/service.ts');
    const { CampaignRunner } = await import('../campaigns/runner.ts');
    const operator: Actor = { operator: 'attacked-operator', userId: 'us_op', clientIp: '127.0.0.1', role: 'operator', tenantId };
    const list = await createList(t.store, operator, { tenantId, name: 'victims' });
    await subscribe(t.store, operator, { tenantId, listId: list.id, email: 'v@customer.example', status: 'subscribed', source: 'api' });
    const c = await createCampaign(t.store, operator, tenantId, { name: 'leak', accountId, listId: list.id, templateId: 'tp_legacy', from });
    await submitCampaign(t.store, operator, tenantId, c.id);
    await approveCampaign(t.store, { operator: 'approver', userId: 'us_approver', clientIp: '127.0.0.1', role: 'administrator' }, null, c.id);
    const before = await (async () => Number((await t.store.db.selectFrom('delivery_messages').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n))();
    await new CampaignRunner(t.store, { nodeId: 'attack-test', publicUrl: 'http://127.0.0.1' }).drain();
    const after = await getCampaign(t.store.db, tenantId, c.id);
    assert.equal(after.status, 'paused');
    assert.match(after.note ?? '', /does not compile: .*no access to files/);
    assert.equal(await count(t.store), before);

    // A campaign batch shares one render budget too: a template that spends it pauses the
    // campaign with the reason instead of marking the rest of the list as errors.
    const { createTemplate } = await import('../templates/stored.ts');
    const costly = await createTemplate(t.store, operator, tenantId, { name: 'costly', subject: 's', text: '{% assign r = (1..400000) %}{{ r.size }}' });
    for (const e of ['v2@customer.example', 'v3@customer.example']) await subscribe(t.store, operator, { tenantId, listId: list.id, email: e, status: 'subscribed', source: 'api' });
    const c2 = await createCampaign(t.store, operator, tenantId, { name: 'costly', accountId, listId: list.id, templateId: costly.id, from });
    await submitCampaign(t.store, operator, tenantId, c2.id);
    await approveCampaign(t.store, { operator: 'approver', userId: 'us_approver', clientIp: '127.0.0.1', role: 'administrator' }, null, c2.id);
    await new CampaignRunner(t.store, { nodeId: 'attack-test', publicUrl: 'http://127.0.0.1', renderLimits: { renderMemory: 1_000_000 } }).drain();
    const paused = await getCampaign(t.store.db, tenantId, c2.id);
    assert.equal(paused.status, 'paused');
    assert.match(paused.note ?? '', /render memory limit exceeded: this request's templates/);
    assert.equal(await count(t.store), before, 'the batch was not written');
  });

  test('render limits hold per request: recipients share one budget', async () => {
    const { store } = get();
    const before = await count(store);
    // Memory is deterministic: each recipient allocates 400,000 of the request's 1,000,000.
    const heavy = '{% assign r = (1..400000) %}{{ r.size }}';
    const two = await send({ from, subject: 's', text: heavy, recipients: [0, 1].map((i) => ({ email: `m${i}@customer.example` })) });
    assert.equal(two.status, 202, await two.text());
    await refused(await send({ from, subject: 's', text: heavy, recipients: [0, 1, 2].map((i) => ({ email: `r${i}@customer.example` })) }), '/body/recipients/2/vars', /render memory limit exceeded: this request's templates/);
    // Time: 15 recipients of a template that alone runs past the 2 s budget cost the request
    // one budget, not fifteen (15 × 2 s took 15.5 s of CPU before). Measured as CPU time of
    // this process, which serves the request.
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const slow = '{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}{% endfor %}x';
    const cpu = process.cpuUsage();
    await refused(await send({ from, subject: 's', text: slow, vars: { xs }, recipients: Array.from({ length: 15 }, (_, i) => ({ email: `s${i}@customer.example` })) }), '/body/recipients/0/vars', /render time limit exceeded/);
    const used = process.cpuUsage(cpu);
    assert.ok((used.user + used.system) / 1000 < 10_000, `the request used ${Math.round((used.user + used.system) / 1000)} ms of CPU`);
    assert.equal(await count(store), before + 2);
  });

  test('header-bound fields refuse CR, LF and NUL with a 400 naming the field', async () => {
    const { store } = get();
    const before = await count(store);
    const base = { from, subject: 's', text: 't', recipients: [{ email: 'h@customer.example' }] };
    const cases: [Record<string, unknown>, string | RegExp][] = [
      [{ replyTo: 'r@attacked.example.com\r\nBcc: victim@x.example' }, '/body/replyTo'],
      [{ replyTo: 'r@attacked.example.com\u0000' }, '/body/replyTo'],
      [{ from: `"Ops\r\nBcc: v@x.example" <${from}>` }, '/body/from'],
      [{ subject: 'Hello\nBcc: v@x.example' }, '/body/subject'],
      [{ headers: { 'X-Ref': 'a\r\nBcc: v@x.example' } }, '/body/headers/X-Ref'],
      [{ headers: { 'X-Bad\r\nBcc': 'v' } }, /^\/body\/headers/],
      [{ tags: ['a\u0000b'] }, '/body/tags/0'],
      [{ attachments: [{ filename: 'a.pdf', contentType: 'application/pdf\r\nX-Injected: 1', content: 'QUJD' }] }, '/body/attachments/0/contentType'],
      [{ attachments: [{ filename: 'a\r\n.pdf', content: 'QUJD' }] }, '/body/attachments/0/filename'],
      [{ recipients: [{ email: 'h@customer.example', name: 'Zhang\r\nBcc: v@x.example' }] }, '/body/recipients/0/name'],
      [{ recipients: [{ email: 'h@customer.example', attachments: [{ filename: 'x.pdf', contentType: 'text/plain\u0000', content: 'QUJD' }] }] }, '/body/recipients/0/attachments/0/contentType'],
    ];
    for (const [change, field] of cases) await refused(await send({ ...base, ...change }), field, /CR, LF or NUL|not an allowed name|MIME type/);
    assert.equal(await count(store), before);
    const ok = await send({ ...base, replyTo: '"Help desk" <help@attacked.example.com>', attachments: [{ filename: 'a.csv', contentType: 'text/csv; charset=utf-8', content: 'YSxi' }] });
    assert.equal(ok.status, 202, await ok.text());
  });

  test('template size limits agree with the schema: 1.1 MB text sends, past 5 MB is refused naming the field', async () => {
    const { store } = get();
    const big = 'statement line\n'.repeat(75_000);
    const res = await send({ from, subject: 'big', text: big, recipients: [{ email: 'big@customer.example' }] });
    assert.equal(res.status, 202, (await res.text()).slice(0, 300));
    const id = ((await (await send({ from, subject: 'big', text: big, recipients: [{ email: 'big2@customer.example' }] })).json()) as { messages: { messageId: string }[] }).messages[0]!.messageId;
    const mail = await simpleParser((await loadBody(store.db, id))!);
    assert.equal(mail.text?.length, big.length);
    await refused(await send({ from, subject: 'big', text: 'x'.repeat(5_000_001), recipients: [{ email: 'big@customer.example' }] }), '/body/text', /must NOT have more than 5000000 characters/);
    await refused(await send({ from, subject: 'tags', text: '{{ a }}'.repeat(10_001), recipients: [{ email: 'big@customer.example', vars: { a: 1 } }] }), '/body/text', /more than 10,000 Liquid tags/);
  });

  test('one request to 200 recipients stores its shared 1 MB body once and counts its bytes in the quota', async () => {
    const { store } = get();
    const text = `${'Your statement, line of figures 0123456789.\n'.repeat(24_000)}`;
    const bodies = async () => {
      const m = await store.db.selectFrom('delivery_messages').select((eb) => [eb.fn.sum<number>(eb.fn('length', ['body'])).as('b'), eb.fn.countAll<number>().as('n')]).executeTakeFirstOrThrow();
      const p = await store.db.selectFrom('delivery_parts').select((eb) => eb.fn.sum<number>('size').as('b')).executeTakeFirst();
      return Number(m.b ?? 0) + Number(p?.b ?? 0);
    };
    const before = await bodies();
    const usedBefore = (await store.db.selectFrom('sending_accounts').select('used_bytes').where('id', '=', accountId).executeTakeFirstOrThrow()).used_bytes;
    const recipients = Array.from({ length: 200 }, (_, i) => ({ email: `c${i}@customer.example`, vars: { n: i } }));
    const res = await send({ from, subject: 'Statement {{ n }}', text, recipients });
    const answer = await res.text();
    assert.equal(res.status, 202, answer.slice(0, 300));
    const grown = (await bodies()) - before;
    assert.ok(grown < 3_000_000, `the store grew by ${grown} bytes for 200 × ${text.length} bytes`);
    const ids = (JSON.parse(answer) as { messages: { messageId: string }[] }).messages.map((m) => m.messageId);
    const sizes = await store.db.selectFrom('delivery_messages').select(['id', 'size', 'body_format']).where('id', 'in', [ids[0]!, ids[199]!]).execute();
    assert.ok(sizes.every((s) => s.body_format === 1 && s.size > text.length));
    for (const id of [ids[0]!, ids[199]!]) {
      const mail = await simpleParser((await loadBody(store.db, id))!);
      assert.equal(mail.text, text);
      assert.match(mail.subject ?? '', /^Statement (0|199)$/);
    }
    const used = (await store.db.selectFrom('sending_accounts').select('used_bytes').where('id', '=', accountId).executeTakeFirstOrThrow()).used_bytes;
    const sent = (await store.db.selectFrom('delivery_messages').select((eb) => eb.fn.sum<number>('size').as('s')).where('id', 'in', ids).executeTakeFirstOrThrow()).s;
    assert.equal(Number(used) - Number(usedBefore), Number(sent), 'every recipient\'s message size counts in the byte quota');
    // A byte quota refuses what would pass it, and stores nothing.
    await store.db.updateTable('sending_accounts').set({ quota_bytes: Number(used) + 500_000 }).where('id', '=', accountId).execute();
    const n = await count(store);
    const over = await send({ from, subject: 's', text, recipients: recipients.slice(0, 2) });
    const overBody = await over.text();
    assert.equal(over.status, 403, overBody);
    assert.match((JSON.parse(overBody) as { detail: string }).detail, /byte quota exhausted/);
    assert.equal(await count(store), n);
    await store.db.updateTable('sending_accounts').set({ quota_bytes: null }).where('id', '=', accountId).execute();
  });

  test('invalid MJML is refused with the MJML error, never sent with an empty body', async () => {
    const { store } = get();
    const before = await count(store);
    await refused(await send({ from, subject: 's', mjml: '<mjml><mj-body><mj-section><mj-column><mj-txt>x</mj-txt></mj-column></mj-section></mj-body></mjml>', recipients: [{ email: 'm@customer.example' }] }), '/body/mjml', /invalid MJML: line 1: Element mj-txt doesn't exist/);
    await refused(await send({ from, subject: 's', mjml: '<mjml><mj-body>{{ name }}</mj-body></mjml>', recipients: [{ email: 'm@customer.example', vars: { name: 'x' } }] }), '/body/mjml', /\{\{ name \}\} is dropped by MJML/);
    await refused(await send({ from, subject: 's', mjml: '<mjml><mj-body></mj-body></mjml>', recipients: [{ email: 'm@customer.example' }] }), '/body/mjml', /empty body/);
    assert.equal(await count(store), before);
  });

  test('deep and poisoned JSON answers 400 naming the field, never 500', async () => {
    const { store } = get();
    const before = await count(store);
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const raw = (body: string) => srv.fetch('/api/v1/messages', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    const problem = await refused(await raw(`{"from":"${from}","subject":"s","text":"t","recipients":[{"email":"d@customer.example","vars":{"v":${deep}}}]}`), /^\/body\/recipients\/0\/vars\/v(\/0)+$/, /nests deeper than 32 levels/);
    assert.ok(problem.errors[0]!.field.length < 200);
    await refused(await raw(`{"from":"${from}","subject":"s","text":"t","recipients":[{"email":"d@customer.example","vars":{"__proto__":{"polluted":1}}}]}`), '/body/recipients/0/vars/__proto__', /not an allowed field name/);
    await refused(await raw(`{"from":"${from}","subject":"s","text":"t","vars":{"constructor":{"prototype":{"x":1}}},"recipients":[{"email":"d@customer.example"}]}`), '/body/vars/constructor/prototype');
    await refused(await raw('{"from": '), '/body', /not valid JSON/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(await count(store), before);
  });

  test('a subscription form\'s sender must be one address on a sending domain of the tenant', async () => {
    const t = get();
    const tenantId = (await t.store.db.selectFrom('tenants').select('id').where('name', '=', 'Attacked').executeTakeFirstOrThrow()).id;
    const login = await srv.fetch('/api/v1/auth/login', { method: 'POST', json: { username: 'attacked-operator', password: 'test-password-1' } });
    const headers = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0]!, 'x-csrf-token': ((await login.json()) as { csrfToken: string }).csrfToken };
    const list = (await (await srv.fetch(`/api/v1/tenants/${tenantId}/lists`, { method: 'POST', headers, json: { name: 'form list', doubleOptIn: true } })).json()) as { id: string };
    const setFrom = (from: string) => srv.fetch(`/api/v1/tenants/${tenantId}/lists/${list.id}`, { method: 'PATCH', headers, json: { form: { enabled: true, accountId, from } } });
    for (const bad of ['"@x.y"', '@x.y', 'news@', 'a@b.example, c@d.example', 'News <news@not-ours.example>']) await refused(await setFrom(bad), 'form.from', /form\.from/);
    await refused(await setFrom('News <news@attacked.example.com>\r\nBcc: v@x.example'), '/body/form/from', /CR, LF or NUL/);
    const ok = await setFrom('"理财中心" <news@attacked.example.com>');
    assert.equal(ok.status, 200, await ok.text());
  });

  test('an over-long recipient link gets the recipient error page, not raw JSON', async () => {
    for (const path of ['/u/', '/t/c/', '/t/o/', '/s/confirm/']) {
      const res = await srv.fetch(`${path}${'A'.repeat(5000)}`, { headers: { 'accept-language': 'en' } });
      assert.equal(res.status, 400, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const html = await res.text();
      assert.match(html, /This link is not valid/);
      assert.doesNotMatch(html, /AAAAAAAAAA/, 'the path is not echoed');
    }
    const api = await srv.fetch(`/api/v1/messages/${'A'.repeat(5000)}`, { headers: { authorization: `Bearer ${key}` } });
    assert.match(api.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(((await api.json()) as { status: number }).status, 414);
    await srv.stop();
  });
});
