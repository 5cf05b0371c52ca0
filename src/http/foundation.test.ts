import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSync } from 'otplib';
import type { FastifyInstance } from 'fastify';
import { describeEachEngine } from '../testing/stores.ts';
import { Session, sessionFor, testApp } from '../testing/http.ts';

describeEachEngine('foundation HTTP API', (get) => {
  let app: FastifyInstance;
  let admin: Session;

  test('setup: administrator session', async () => {
    const { store, dataDir } = get();
    app = await testApp(store, dataDir, { security: { loginLockoutFailures: 3, loginLockoutMinutes: 15, sessionHours: 1, secureCookies: false } });
    admin = await sessionFor(app, store, 'administrator');
    const me = await admin.request('GET', '/api/v1/auth/me');
    assert.equal(me.json().user.role, 'administrator');
  });

  test('tenant, account, quota and API key through the API; the key works as Bearer', async () => {
    const t = await admin.request('POST', '/api/v1/tenants', { name: 'Card Centre' });
    assert.equal(t.statusCode, 201, t.body);
    const tenant = t.json();
    const a = await admin.request('POST', `/api/v1/tenants/${tenant.id}/accounts`, { name: 'cards-http', password: 'long enough', quota: 1000, sendingType: 'monthly' });
    assert.equal(a.statusCode, 201, a.body);
    assert.equal(a.json().remaining, 1000);
    assert.equal(a.json().password, undefined);
    assert.doesNotMatch(a.body, /argon2/);
    const k = await admin.request('POST', `/api/v1/accounts/${a.json().id}/api-keys`, { name: 'crm' });
    assert.equal(k.statusCode, 201);
    const key = k.json().key as string;
    const listed = await admin.request('GET', `/api/v1/accounts/${a.json().id}/api-keys`);
    assert.equal(listed.json().items.length, 1);
    assert.equal(listed.json().items[0].key, undefined);
    const viaKey = await app.inject({ method: 'GET', url: '/api/v1/accounts', headers: { authorization: `Bearer ${key}` } });
    assert.equal(viaKey.statusCode, 200);
    assert.deepEqual(viaKey.json().items.map((x: { id: string }) => x.id), [a.json().id]);
    const bad = await app.inject({ method: 'GET', url: '/api/v1/accounts', headers: { authorization: 'Bearer fo_nope' } });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
    const tenants = await admin.request('GET', '/api/v1/tenants');
    const row = tenants.json().items.find((x: { id: string }) => x.id === tenant.id);
    assert.deepEqual([row.purchased, row.used, row.remaining], [1000, 0, 1000]);
  });

  test('bad input: unknown fields, wrong types, oversize strings → 400 problem, nothing written', async () => {
    const { store } = get();
    const count = async () => Number((await store.db.selectFrom('tenants').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    for (const payload of [{ name: 'x', colour: 'red' }, { name: 42 }, { name: 'x'.repeat(500) }, {}]) {
      const res = await admin.request('POST', '/api/v1/tenants', payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      const problem = res.json();
      assert.equal(problem.status, 400);
      assert.ok(problem.detail.length > 0);
      assert.ok(problem.errors.length > 0);
    }
    const unknown = await admin.request('POST', '/api/v1/tenants', { name: 'x', colour: 'red' });
    assert.equal(unknown.json().errors[0].field, '/body/colour');
    const tenantId = (await admin.request('GET', '/api/v1/tenants')).json().items[0].id;
    const quota = await admin.request('POST', `/api/v1/tenants/${tenantId}/accounts`, { name: 'q', password: 'long enough', quota: '10' });
    assert.equal(quota.statusCode, 400);
    const dup = await admin.request('POST', '/api/v1/tenants', { name: 'Card Centre' });
    assert.equal(dup.statusCode, 409);
    assert.equal(await count(), before);
    const missing = await admin.request('GET', '/api/v1/tenants/tn_does_not_exist');
    assert.equal(missing.statusCode, 404);
  });

  test('an operator sees and changes only their own tenant', async () => {
    const { store } = get();
    const mine = (await admin.request('POST', '/api/v1/tenants', { name: 'Securities' })).json();
    const theirs = (await admin.request('POST', '/api/v1/tenants', { name: 'Wealth' })).json();
    const myAcct = (await admin.request('POST', `/api/v1/tenants/${mine.id}/accounts`, { name: 'sec1', password: 'long enough' })).json();
    const theirAcct = (await admin.request('POST', `/api/v1/tenants/${theirs.id}/accounts`, { name: 'wealth1', password: 'long enough' })).json();
    const op = await sessionFor(app, store, 'operator', mine.id);
    assert.deepEqual((await op.request('GET', '/api/v1/tenants')).json().items.map((t: { id: string }) => t.id), [mine.id]);
    assert.equal((await op.request('GET', `/api/v1/tenants/${theirs.id}`)).statusCode, 404);
    assert.equal((await op.request('GET', `/api/v1/accounts/${theirAcct.id}`)).statusCode, 404);
    assert.equal((await op.request('PUT', `/api/v1/accounts/${theirAcct.id}/password`, { password: 'hijacked!!' })).statusCode, 404);
    assert.equal((await op.request('POST', `/api/v1/accounts/${theirAcct.id}/api-keys`, {})).statusCode, 404);
    assert.deepEqual((await op.request('GET', `/api/v1/accounts?tenantId=${theirs.id}`)).json().items, []);
    assert.equal((await op.request('PUT', `/api/v1/accounts/${myAcct.id}/password`, { password: 'new password' })).statusCode, 204);
    assert.equal((await op.request('PATCH', `/api/v1/accounts/${myAcct.id}`, { quota: 1e9 })).statusCode, 403);
    assert.equal((await op.request('POST', '/api/v1/tenants', { name: 'Mine now' })).statusCode, 403);
    const log = (await op.request('GET', '/api/v1/operation-log')).json().items;
    assert.ok(log.length > 0);
    assert.ok(log.every((e: { tenantId: string }) => e.tenantId === mine.id));
  });

  test('auditor reads every log but cannot write', async () => {
    const { store } = get();
    const auditor = await sessionFor(app, store, 'auditor');
    const log = await auditor.request('GET', '/api/v1/operation-log?operation=tenant.create&limit=2');
    assert.equal(log.statusCode, 200);
    assert.equal(log.json().items.length, 2);
    assert.ok(log.json().nextBefore);
    assert.ok(log.json().items.every((e: { operation: string }) => e.operation === 'tenant.create'));
    assert.equal((await auditor.request('GET', '/api/v1/operation-log/verify')).json().ok, true);
    assert.equal((await auditor.request('POST', '/api/v1/tenants', { name: 'nope' })).statusCode, 403);
  });

  test('cookie writes need the CSRF token; the cookie is HttpOnly and SameSite', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: { cookie: admin.cookie }, payload: { name: 'csrf' } });
    assert.equal(res.statusCode, 403);
    assert.match(res.json().detail, /csrf/i);
    const s = new Session(app);
    const login = await s.login('nobody', 'whatever');
    assert.equal(login.statusCode, 401);
    const { store } = get();
    await sessionFor(app, store, 'support');
    const { createUser } = await import('../users/service.ts');
    await createUser(store, { operator: 'test', clientIp: '127.0.0.1', role: 'system' }, { username: 'cookie-check', password: 'test-password-1', role: 'support' });
    const ok = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'cookie-check', password: 'test-password-1' } });
    const cookie = String(ok.headers['set-cookie']);
    assert.match(cookie, /^fanout_session=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const raw = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'nobody', password: 'x' } });
    assert.equal(raw.statusCode, 401);
  });

  test('login lock-out after repeated failures, all logged; TOTP enrolment and two-step login', async () => {
    const { store } = get();
    const victim = await sessionFor(app, store, 'support');
    const name = (await victim.request('GET', '/api/v1/auth/me')).json().user.username as string;
    // TOTP enrolment
    assert.equal((await victim.request('POST', '/api/v1/auth/totp/enrol', {})).statusCode, 400, 'enrolment needs the password');
    const enrol = await victim.request('POST', '/api/v1/auth/totp/enrol', { password: 'test-password-1' });
    const secret = enrol.json().secret as string;
    assert.match(enrol.json().otpauthUri, /^otpauth:\/\/totp\//);
    assert.equal((await victim.request('POST', '/api/v1/auth/totp/confirm', { code: '000000' })).statusCode, 400);
    assert.equal((await victim.request('POST', '/api/v1/auth/totp/confirm', { code: generateSync({ secret }) })).statusCode, 204);
    const two = new Session(app);
    const step1 = await two.login(name, 'test-password-1');
    assert.equal(step1.json().totpRequired, true);
    assert.equal((await two.request('GET', '/api/v1/tenants')).statusCode, 401);
    // The confirming code was taken: sign-in needs a later one (the next step's is accepted early).
    const step2 = await two.request('POST', '/api/v1/auth/totp', { code: generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }) });
    assert.equal(step2.statusCode, 200, step2.body);
    assert.equal((await two.request('GET', '/api/v1/tenants')).statusCode, 200);
    // Lock-out
    for (let i = 0; i < 3; i++) assert.equal((await new Session(app).login(name, 'wrong password')).statusCode, 401);
    const locked = await new Session(app).login(name, 'test-password-1');
    assert.equal(locked.statusCode, 423);
    assert.ok(Number(locked.headers['retry-after']) > 0);
    const ops = (await admin.request('GET', '/api/v1/operation-log?operation=user.&limit=500')).json().items.map((e: { operation: string }) => e.operation);
    for (const op of ['user.login', 'user.login_failed', 'user.locked', 'user.login_locked', 'user.totp_enable', 'user.totp_begin']) assert.ok(ops.includes(op), op);
    assert.equal((await admin.request('PATCH', `/api/v1/users/${name}`, { unlock: true })).statusCode, 200);
  });

  test('the OpenAPI document describes the routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/tenants'].post.requestBody);
    assert.ok(doc.paths['/api/v1/tenants/{tenantId}/accounts']);
    await app.close();
  });
});
