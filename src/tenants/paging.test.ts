import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../audit/log.ts';
import { Session, testApp } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { createUser } from '../users/service.ts';
import { createTenant, updateTenant } from './service.ts';

const system: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'system' };
const PASSWORD = 'test-password-1';
const NAMES = ['Card Centre', 'card-two', '100%_bank', 'Brokerage', '信用卡中心', '证券营业部', 'Zeta Trust'];

/** Walks every page of `path` with `limit`, returning the names in order and the number of pages. */
async function walk(s: Session, path: string, field: 'name' | 'username'): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await s.request('GET', `${path}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { items: Record<string, string>[]; nextCursor: string | null };
    names.push(...body.items.map((i) => i[field]!));
    cursor = body.nextCursor;
    pages++;
  } while (cursor !== null && pages < 20);
  return { names, pages };
}

describeEachEngine('tenant and user lists page on the server', (get) => {
  let app: FastifyInstance;
  let admin: Session;
  let operator: Session;
  let ordered: string[];

  test('setup', async () => {
    const { store, dataDir } = get();
    app = await testApp(store, dataDir);
    const ids: Record<string, string> = {};
    for (const name of NAMES) ids[name] = (await createTenant(store, system, { name })).id;
    await updateTenant(store, system, ids.Brokerage!, { status: 'suspended' });
    await createUser(store, system, { username: 'ada', password: PASSWORD, role: 'administrator' });
    for (let i = 0; i < 5; i++) await createUser(store, system, { username: `op${i}`, password: PASSWORD, role: 'operator', tenantId: ids['Card Centre'] });
    await createUser(store, system, { username: 'other-op', password: PASSWORD, role: 'operator', tenantId: ids['Zeta Trust'] });
    admin = new Session(app);
    await admin.login('ada', PASSWORD);
    operator = new Session(app);
    await operator.login('op0', PASSWORD);
    // The order the engine sorts names in, as the unpaged list gives it.
    ordered = ((await admin.request('GET', '/api/v1/tenants')).json() as { items: { name: string }[] }).items.map((t) => t.name);
  });

  test('without paging parameters the whole list, as before (and a null nextCursor)', async () => {
    const body = (await admin.request('GET', '/api/v1/tenants')).json() as { items: { name: string }[]; nextCursor: unknown };
    assert.deepEqual([...body.items.map((t) => t.name)].sort(), [...NAMES].sort());
    assert.equal(body.nextCursor, null);
    assert.equal(((await admin.request('GET', '/api/v1/users')).json() as { items: unknown[] }).items.length, 7);
  });

  test('pages of three cover every tenant once, in the same order', async () => {
    const { names, pages } = await walk(admin, '/api/v1/tenants?limit=3', 'name');
    assert.deepEqual(names, ordered);
    assert.equal(pages, 3);
  });

  test('filters apply before paging: part of the name in any case, wildcards as text, status', async () => {
    assert.deepEqual((await walk(admin, '/api/v1/tenants?limit=1&q=CARD', 'name')).names.sort(), ['Card Centre', 'card-two']);
    assert.deepEqual((await walk(admin, '/api/v1/tenants?limit=5&q=%25_', 'name')).names, ['100%_bank']);
    assert.deepEqual((await walk(admin, '/api/v1/tenants?limit=5&q=_', 'name')).names, ['100%_bank']);
    assert.deepEqual((await walk(admin, `/api/v1/tenants?limit=5&q=${encodeURIComponent('营业')}`, 'name')).names, ['证券营业部']);
    assert.deepEqual((await walk(admin, '/api/v1/tenants?limit=5&status=suspended', 'name')).names, ['Brokerage']);
  });

  test('an operator pages through their own tenant only', async () => {
    assert.deepEqual((await walk(operator, '/api/v1/tenants?limit=2', 'name')).names, ['Card Centre']);
    assert.deepEqual((await walk(operator, '/api/v1/tenants?limit=2&q=zeta', 'name')).names, []);
    const users = await walk(operator, '/api/v1/users?limit=2', 'username');
    assert.deepEqual(users.names, ['op0', 'op1', 'op2', 'op3', 'op4']);
    assert.equal(users.pages, 3);
  });

  test('users page by name, with the name and role filters', async () => {
    const all = await walk(admin, '/api/v1/users?limit=4', 'username');
    assert.deepEqual(all.names, ['ada', 'op0', 'op1', 'op2', 'op3', 'op4', 'other-op']);
    assert.deepEqual((await walk(admin, '/api/v1/users?limit=4&role=administrator', 'username')).names, ['ada']);
    assert.deepEqual((await walk(admin, '/api/v1/users?limit=2&q=OTHER', 'username')).names, ['other-op']);
  });

  test('bad paging parameters are refused with the field named', async () => {
    for (const [path, field] of [['/api/v1/tenants?limit=0', 'limit'], ['/api/v1/tenants?limit=many', 'limit'], ['/api/v1/tenants?status=gone', 'status'], ['/api/v1/users?limit=501', 'limit'], ['/api/v1/users?role=king', 'role'], ['/api/v1/tenants?page=2', 'page']] as const) {
      const res = await admin.request('GET', path);
      assert.equal(res.statusCode, 400, path);
      assert.match(res.body, new RegExp(field), path);
    }
  });
});
