import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../audit/log.ts';
import { listOperations } from '../audit/queries.ts';
import { Session, testApp } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { createTenant } from '../tenants/service.ts';
import { createUser } from './service.ts';

const system: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'system' };
const PASSWORD = 'test-password-1';

describeEachEngine('own settings: every user stores their console language', (get) => {
  let app: FastifyInstance;
  const users: Record<string, string> = {};

  test('setup', async () => {
    const { store, dataDir } = get();
    app = await testApp(store, dataDir);
    const tenant = await createTenant(store, system, { name: 'Card Centre' });
    for (const [username, role] of [['ada', 'administrator'], ['oscar', 'operator'], ['audrey', 'auditor'], ['sam', 'support']] as const) {
      users[username] = (await createUser(store, system, { username, password: PASSWORD, role, ...(role === 'operator' ? { tenantId: tenant.id } : {}) })).id;
    }
  });

  test('each role sets its own locale; /auth/me and the user record show it; the operation log has it', async () => {
    const { store } = get();
    for (const [username, locale] of [['oscar', 'en'], ['audrey', 'en'], ['sam', 'en'], ['ada', 'en']] as const) {
      const s = new Session(app);
      assert.equal((await s.login(username, PASSWORD)).statusCode, 200);
      const res = await s.request('PATCH', '/api/v1/auth/me', { locale });
      assert.equal(res.statusCode, 200, `${username}: ${res.body}`);
      assert.equal(res.json().locale, locale);
      assert.equal((await s.request('GET', '/api/v1/auth/me')).json().user.locale, locale);
      assert.equal((await s.request('PATCH', '/api/v1/auth/me', { locale: 'zh-CN' })).json().locale, 'zh-CN');
    }
    const ops = await listOperations(store.db, { operation: 'user.update', limit: 50 });
    const mine = ops.items.filter((o) => o.objectId === users.oscar);
    assert.equal(mine.length, 2);
    assert.equal(mine[0]!.operator, 'oscar');
  });

  test('only the locale: other fields and bad values are refused with the field named, and nothing changes', async () => {
    const s = new Session(app);
    await s.login('oscar', PASSWORD);
    const role = await s.request('PATCH', '/api/v1/auth/me', { locale: 'en', role: 'administrator' });
    assert.equal(role.statusCode, 400);
    const bad = await s.request('PATCH', '/api/v1/auth/me', { locale: 'fr' });
    assert.equal(bad.statusCode, 400);
    assert.match(JSON.stringify(bad.json().errors), /\/body\/locale/);
    const me = (await s.request('GET', '/api/v1/auth/me')).json().user;
    assert.deepEqual([me.role, me.locale], ['operator', 'zh-CN']);
    // Changing another user (or oneself) through /users stays an administrator's right.
    assert.equal((await s.request('PATCH', `/api/v1/users/${users.oscar}`, { locale: 'en' })).statusCode, 403);
  });

  test('a session without the CSRF header, or without a login, changes nothing', async () => {
    const s = new Session(app);
    await s.login('sam', PASSWORD);
    const noCsrf = await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: { cookie: s.cookie }, payload: { locale: 'en' } });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal((await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', payload: { locale: 'en' } })).statusCode, 401);
    assert.equal((await s.request('GET', '/api/v1/auth/me')).json().user.locale, 'zh-CN');
  });
});
