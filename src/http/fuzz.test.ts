import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../accounts/apikeys.ts';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { createDomain } from '../domains/service.ts';
import { createTenant } from '../tenants/service.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import type { Session } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';

/**
 * Property-based fuzzing of the JSON API: arbitrary and adversarial bodies (deep nesting, huge
 * strings, wrong types, prototype keys, CR/LF/NUL, Liquid that reaches for files) against the
 * main write endpoints of the real app on a real store. Whatever comes in, the answer is 2xx
 * or a 4xx problem+json — never a 500 — within bounded time and memory per case.
 */

// A JSON document built as text, so nesting far deeper than JSON.stringify could write fits.
class Obj {
  readonly entries: [string, J][];
  constructor(entries: [string, J][]) {
    this.entries = entries;
  }
}
class Deep {
  readonly depth: number;
  constructor(depth: number) {
    this.depth = depth;
  }
}
type J = null | boolean | number | string | J[] | Obj | Deep;

function text(v: J): string {
  if (v instanceof Deep) return '['.repeat(v.depth) + ']'.repeat(v.depth);
  if (v instanceof Obj) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${text(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
  return JSON.stringify(v) ?? 'null';
}

const nasty = ['\r\n', '\u0000', '\n', '\r', '{{ x }}', "{% include 'package.json' %}", "{% render '../data/fanout.db' %}", '{% layout "x" %}', '<mj-include path="/etc/passwd" />',
  '\u202e', '中文', '😀', '"', '\\', '%00', '../', 'a@b', '@x.y', '<script>', '\ud800'];
const hugeString = fc.tuple(fc.constantFrom(0, 1, 100, 256, 1_000, 70_000, 1_100_000, 5_000_001), fc.constantFrom('a', '\r\n', '\u0000', '{{a}}', '中', 'x@y.z,'))
  .map(([n, c]) => c.repeat(Math.ceil(n / c.length)).slice(0, n));
const weirdString = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(...nasty), fc.string({ maxLength: 10 }).map((s) => `${s}${nasty[s.length % nasty.length]}${s}`), hugeString);
const weirdKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'a'.repeat(200), 'X-Ok', 'Bcc\r\n', 'from'), fc.string({ maxLength: 12 }));
const scalar: fc.Arbitrary<J> = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.constantFrom(1e308, -0, 2 ** 53 + 1, -1), weirdString);
const anyJson: fc.Arbitrary<J> = fc.letrec<{ v: J }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.array(fc.tuple(weirdKey, tie('v')), { maxLength: 4 }).map((e) => new Obj(e)),
    fc.integer({ min: 30, max: 30_000 }).map((d) => new Deep(d))),
})).v;

/** A valid body whose fields are, each with some chance, replaced by something hostile. */
function mutated(valid: Record<string, J>, extraKeys = true): fc.Arbitrary<J> {
  const fields = Object.entries(valid).map(([k, v]) => fc.oneof({ weight: 2, arbitrary: fc.constant<[string, J] | null>([k, v]) }, anyJson.map((x): [string, J] => [k, x]), fc.constant(null)));
  return fc.tuple(fc.tuple(...fields), extraKeys ? fc.array(fc.tuple(weirdKey, anyJson), { maxLength: 2 }) : fc.constant([] as [string, J][]))
    .map(([kept, extra]) => new Obj([...kept.filter((e): e is [string, J] => e !== null), ...extra]));
}

const admin: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'administrator' };
// Modest so the suite stays fast; FUZZ_RUNS=500 searches harder (no 500 at 200 runs, measured).
const RUNS = Number(process.env.FUZZ_RUNS ?? 20);

describeEachEngine('JSON API fuzzing', (get) => {
  let app: FastifyInstance;
  let apiKey: string;
  let adminSession: Session;
  let operator: Session;
  let ids: { tenant: string; account: string; list: string; template: string };

  /** One request; asserts the answer is 2xx or a well-formed 4xx problem, in bounded time and memory. */
  async function hit(method: 'POST' | 'PUT' | 'PATCH', url: string, body: J | string, auth: { key?: string; session?: Session }): Promise<void> {
    const payload = typeof body === 'string' ? body : text(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth.key) headers.authorization = `Bearer ${auth.key}`;
    if (auth.session) Object.assign(headers, { cookie: auth.session.cookie, 'x-csrf-token': auth.session.csrf });
    const heap = process.memoryUsage().heapUsed;
    const started = performance.now();
    const res = await app.inject({ method, url, headers, payload });
    const ms = performance.now() - started;
    const grew = process.memoryUsage().heapUsed - heap;
    const sample = payload.length > 300 ? `${payload.slice(0, 300)}… (${payload.length} chars)` : payload;
    assert.ok(res.statusCode < 500, `${method} ${url} answered ${res.statusCode} ${res.body.slice(0, 500)} to ${sample}`);
    assert.ok((res.statusCode >= 200 && res.statusCode < 300) || (res.statusCode >= 400 && res.statusCode < 500), `${res.statusCode}`);
    if (res.statusCode >= 400) {
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/, sample);
      const problem = res.json() as { status: number; detail: string; title: string };
      assert.equal(problem.status, res.statusCode);
      assert.equal(typeof problem.detail, 'string');
      assert.ok(problem.detail.length < 20_000, 'the problem does not echo a huge input');
    }
    assert.ok(ms < 15_000, `${method} ${url} took ${Math.round(ms)} ms for ${sample}`);
    assert.ok(grew < 512 * 1024 * 1024, `${method} ${url} grew the heap by ${Math.round(grew / 1e6)} MB`);
  }

  test('setup', async () => {
    const { store, dataDir } = get();
    app = await testApp(store, dataDir, { http: { host: '127.0.0.1', port: 0, publicUrl: 'https://mail.fuzz.example', trustProxy: false, bodyLimitBytes: 50 * 1024 * 1024 } });
    const tenant = await createTenant(store, admin, { name: 'Fuzz' });
    await createDomain(store, admin, { tenantId: tenant.id, domain: 'fuzz.example.com' });
    const account = await createAccount(store, admin, { tenantId: tenant.id, name: 'fuzz-api', password: 'long enough' });
    apiKey = (await createApiKey(store, admin, { tenantId: tenant.id, accountId: account.id })).key;
    adminSession = await sessionFor(app, store, 'administrator');
    operator = await sessionFor(app, store, 'operator', tenant.id);
    const list = (await operator.request('POST', `/api/v1/tenants/${tenant.id}/lists`, { name: 'fuzz list' })).json();
    const template = (await operator.request('POST', '/api/v1/templates', { name: 'fuzz', subject: 'Hi {{ name }}', html: '<p>{{ name }}</p>' })).json();
    ids = { tenant: tenant.id, account: account.id, list: list.id, template: template.id };
    assert.ok(ids.list && ids.template);
  });

  test('POST /messages', async () => {
    const valid: Record<string, J> = {
      from: 'ops@fuzz.example.com', subject: 'Hi {{ name }}', text: 'Dear {{ name }}', stream: 'transactional',
      replyTo: 'help@fuzz.example.com', headers: new Obj([['X-Ref', 'r1']]), tags: ['t'], vars: new Obj([['name', 'x']]),
      attachments: [new Obj([['filename', 'a.pdf'], ['contentType', 'application/pdf'], ['content', 'QUJD']])],
      recipients: [new Obj([['email', 'a@customer.example'], ['name', 'A'], ['vars', new Obj([['name', 'Zhang']])]])],
    };
    await fc.assert(fc.asyncProperty(fc.oneof(mutated(valid), anyJson), (body) => hit('POST', '/api/v1/messages', body, { key: apiKey })), { numRuns: RUNS * 2 });
    // Recipients' own fields, one recipient mutated among valid ones.
    const recipient = mutated({ email: 'b@customer.example', name: 'B', vars: new Obj([['name', 'Li']]), attachments: [new Obj([['filename', 'x.txt'], ['content', 'eA==']])] });
    await fc.assert(fc.asyncProperty(recipient, (r) => hit('POST', '/api/v1/messages', new Obj([['from', 'ops@fuzz.example.com'], ['subject', 'S'], ['text', 'T {{ name }}'], ['recipients', [r]]]), { key: apiKey })), { numRuns: RUNS });
  });

  test('raw bodies that are not JSON, or barely', async () => {
    const raw = fc.oneof(fc.string({ maxLength: 50 }), fc.constantFrom('', '\ufeff{}', '{"from":', 'null', '[]', '"x"', '1e999', '{"a":1,"a":2}', '{"__proto__":{"x":1}}', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`));
    await fc.assert(fc.asyncProperty(raw, (body) => hit('POST', '/api/v1/messages', body, { key: apiKey })), { numRuns: RUNS });
  });

  test('templates: create, update, preview', async () => {
    const template = mutated({ name: 'T', subject: 'S {{ a }}', html: '<p>{{ a }}</p>', text: 'x', mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>{{ a }}</mj-text></mj-column></mj-section></mj-body></mjml>' });
    await fc.assert(fc.asyncProperty(template, (body) => hit('POST', '/api/v1/templates', body, { session: operator })), { numRuns: RUNS });
    await fc.assert(fc.asyncProperty(template, (body) => hit('PUT', `/api/v1/templates/${ids.template}`, body, { session: operator })), { numRuns: Math.ceil(RUNS / 2) });
    await fc.assert(fc.asyncProperty(mutated({ vars: new Obj([['name', 'x']]) }), (body) => hit('POST', `/api/v1/templates/${ids.template}/preview`, body, { session: operator })), { numRuns: RUNS });
  });

  test('tenants, accounts, users, lists, subscribers, campaigns, uploads, sign-in', async () => {
    const cases: [string, 'POST' | 'PATCH', string, Record<string, J>, { key?: string; session?: Session }][] = [
      ['tenant', 'POST', '/api/v1/tenants', { name: 'T', accountType: 'bulk' }, { session: adminSession }],
      ['account', 'POST', `/api/v1/tenants/${ids.tenant}/accounts`, { name: 'acct', password: 'long enough', quota: 10, quotaBytes: 1000, allowIps: ['10.0.0.0/8'], sendingType: 'daily' }, { session: adminSession }],
      ['account patch', 'PATCH', `/api/v1/accounts/${ids.account}`, { quota: 5, quotaBytes: null, maxConnections: 3, tracking: false }, { session: adminSession }],
      ['user', 'POST', '/api/v1/users', { username: 'u', password: 'long enough', role: 'operator', tenantId: ids.tenant, locale: 'en' }, { session: adminSession }],
      ['list', 'POST', `/api/v1/tenants/${ids.tenant}/lists`, { name: 'L', doubleOptIn: true, form: new Obj([['enabled', false], ['from', 'News <news@fuzz.example.com>']]) }, { session: operator }],
      ['subscribe', 'POST', `/api/v1/tenants/${ids.tenant}/lists/${ids.list}/subscribe`, { email: 's@customer.example', name: 'S', attributes: new Obj([['city', 'x']]) }, { session: operator }],
      ['campaign', 'POST', '/api/v1/campaigns', { name: 'C', accountId: ids.account, listId: ids.list, templateId: ids.template, from: 'ops@fuzz.example.com', filter: new Obj([['city', 'x']]), timezone: 'Asia/Shanghai' }, { session: operator }],
      ['upload', 'POST', '/api/v1/uploads', { filename: 'f.pdf', contentType: 'application/pdf', content: 'QUJD' }, { key: apiKey }],
      ['login', 'POST', '/api/v1/auth/login', { username: 'nobody', password: 'x' }, {}],
    ];
    for (const [, method, url, valid, auth] of cases) {
      await fc.assert(fc.asyncProperty(mutated(valid), (body) => hit(method, url, body, auth)), { numRuns: Math.ceil(RUNS / 2) });
    }
    // Whatever came before, the app still answers.
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    await app.close();
  });
});
