import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Actor } from '../audit/log.ts';
import { listOperations } from '../audit/queries.ts';
import { createTenant } from '../tenants/service.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { authenticateApiKey, createApiKey, revokeApiKey } from './apikeys.ts';
import { periodKey } from './quota.ts';
import { accountsForClientIp, authenticateSmtp, createAccount, deleteAccount, listQuotaAlerts, reserveQuota, setAccountPassword, updateAccount } from './service.ts';

const admin: Actor = { operator: 'root', clientIp: '127.0.0.1', role: 'administrator' };

test('quota periods follow the configured time zone', () => {
  const t = Date.UTC(2026, 10, 25, 20, 0, 0); // 04:00 the next day in Shanghai
  assert.equal(periodKey('daily', t, 'UTC'), '2026-11-25');
  assert.equal(periodKey('daily', t, 'Asia/Shanghai'), '2026-11-26');
  assert.equal(periodKey('monthly', t, 'UTC'), '2026-11');
  assert.equal(periodKey('total', t, 'UTC'), null);
});

describeEachEngine('sending accounts', (get) => {
  test('create, authenticate, change password, delete; passwords never stored or logged in clear', async () => {
    const { store } = get();
    const tenant = await createTenant(store, admin, { name: 'Card Centre' });
    const acct = await createAccount(store, admin, { tenantId: tenant.id, name: 'cards', password: 'correct horse', quota: 100 });
    assert.equal(acct.remaining, 100);
    const stored = await store.db.selectFrom('sending_accounts').select('password_hash').where('id', '=', acct.id).executeTakeFirstOrThrow();
    assert.match(stored.password_hash!, /^\$argon2id\$/);
    assert.equal((await authenticateSmtp(store, 'CARDS', 'correct horse'))?.id, acct.id);
    assert.equal(await authenticateSmtp(store, 'cards', 'wrong horse'), null);
    await setAccountPassword(store, admin, acct.id, 'battery staple');
    assert.equal(await authenticateSmtp(store, 'cards', 'correct horse'), null);
    assert.equal((await authenticateSmtp(store, 'cards', 'battery staple'))?.id, acct.id);
    const log = await listOperations(store.db, { objectId: acct.id });
    assert.deepEqual(log.items.map((e) => e.operation).sort(), ['account.create', 'account.password']);
    assert.doesNotMatch(JSON.stringify(log.items), /correct horse|battery staple/);
    await deleteAccount(store, admin, acct.id);
    assert.equal(await authenticateSmtp(store, 'cards', 'battery staple'), null);
    // The name is free again after deletion.
    await createAccount(store, admin, { tenantId: tenant.id, name: 'cards', password: 'another one' });
  });

  test('bad input is refused and nothing is written', async () => {
    const { store } = get();
    const tenant = await createTenant(store, admin, { name: 'Securities' });
    const before = await store.db.selectFrom('sending_accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await assert.rejects(createAccount(store, admin, { tenantId: tenant.id, name: 'has space', password: 'longenough' }), /name may contain only/);
    await assert.rejects(createAccount(store, admin, { tenantId: tenant.id, name: 'ok', password: 'short' }), /at least 8/);
    await assert.rejects(createAccount(store, admin, { tenantId: tenant.id, name: 'ok', password: 'longenough', quota: -1 }), /quota/);
    await assert.rejects(createAccount(store, admin, { tenantId: tenant.id, name: 'ok', allowIps: ['10.0.0.0/33'] }), /not an IP address or CIDR/);
    await assert.rejects(createAccount(store, admin, { tenantId: 'tn_missing', name: 'ok', password: 'longenough' }), /tenant not found/);
    await assert.rejects(createAccount(store, admin, { tenantId: tenant.id, name: 'ok' }), /needs a password/);
    await createAccount(store, admin, { tenantId: tenant.id, name: 'dup', password: 'longenough' });
    await assert.rejects(createAccount(store, admin, { tenantId: tenant.id, name: 'DUP', password: 'longenough' }), /already exists/);
    const after = await store.db.selectFrom('sending_accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n) + 1);
  });

  test('allowed client addresses match by CIDR, IPv4-mapped IPv6 included', async () => {
    const { store } = get();
    const tenant = await createTenant(store, admin, { name: 'Core Banking' });
    const acct = await createAccount(store, admin, { tenantId: tenant.id, name: 'core', allowIps: ['10.1.0.0/16', '::1'] });
    assert.deepEqual((await accountsForClientIp(store, '10.1.2.3')).map((a) => a.id), [acct.id]);
    assert.deepEqual((await accountsForClientIp(store, '::ffff:10.1.200.1')).map((a) => a.id), [acct.id]);
    assert.deepEqual((await accountsForClientIp(store, '::1')).map((a) => a.id), [acct.id]);
    assert.deepEqual(await accountsForClientIp(store, '10.2.0.1'), []);
  });

  test('quota: reservations count, alerts fire at 90% and 100% once, then sending is refused', async () => {
    const { store } = get();
    const tenant = await createTenant(store, admin, { name: 'Marketing' });
    const acct = await createAccount(store, admin, { tenantId: tenant.id, name: 'mkt', password: 'longenough', quota: 10 });
    for (let i = 0; i < 8; i++) assert.equal((await store.transaction((trx) => reserveQuota(trx, acct.id, 1))).ok, true);
    assert.deepEqual(await listQuotaAlerts(store.db, { accountId: acct.id }), []);
    assert.equal((await store.transaction((trx) => reserveQuota(trx, acct.id, 1))).ok, true);
    assert.deepEqual((await listQuotaAlerts(store.db, { accountId: acct.id })).map((a) => a.level), [90]);
    const tooMany = await store.transaction((trx) => reserveQuota(trx, acct.id, 2));
    assert.equal(tooMany.ok, false);
    assert.equal(tooMany.ok === false && tooMany.reason, 'quota_exceeded');
    assert.equal((await store.transaction((trx) => reserveQuota(trx, acct.id, 1))).ok, true);
    assert.deepEqual((await listQuotaAlerts(store.db, { accountId: acct.id })).map((a) => a.level), [100, 90]);
    assert.equal((await store.transaction((trx) => reserveQuota(trx, acct.id, 1))).ok, false);
    // Buying more lifts the hold.
    await updateAccount(store, admin, acct.id, { quota: 20 });
    assert.equal((await store.transaction((trx) => reserveQuota(trx, acct.id, 1))).ok, true);
    await updateAccount(store, admin, acct.id, { status: 'held' });
    const held = await store.transaction((trx) => reserveQuota(trx, acct.id, 1));
    assert.equal(held.ok === false && held.reason, 'held');
  });

  test('daily quota renews when the day turns', async () => {
    const { store } = get();
    const tenant = await createTenant(store, admin, { name: 'Statements' });
    const acct = await createAccount(store, admin, { tenantId: tenant.id, name: 'stmt', password: 'longenough', quota: 2, sendingType: 'daily' });
    const day1 = Date.UTC(2026, 0, 1, 12);
    assert.equal((await store.transaction((trx) => reserveQuota(trx, acct.id, 2, day1))).ok, true);
    assert.equal((await store.transaction((trx) => reserveQuota(trx, acct.id, 1, day1))).ok, false);
    assert.equal((await store.transaction((trx) => reserveQuota(trx, acct.id, 2, day1 + 86_400_000))).ok, true);
  });

  test('API keys: shown once, stored hashed, authenticate, revoke', async () => {
    const { store } = get();
    const tenant = await createTenant(store, admin, { name: 'CRM' });
    const acct = await createAccount(store, admin, { tenantId: tenant.id, name: 'crm', password: 'longenough' });
    const { key, apiKey } = await createApiKey(store, admin, { tenantId: tenant.id, accountId: acct.id });
    const row = await store.db.selectFrom('api_keys').selectAll().where('id', '=', apiKey.id).executeTakeFirstOrThrow();
    assert.notEqual(row.key_hash, key);
    assert.ok(!JSON.stringify(row).includes(key.split('_').slice(2).join('_')));
    assert.deepEqual(await authenticateApiKey(store.db, key), { keyId: apiKey.id, prefix: apiKey.prefix, tenantId: tenant.id, accountId: acct.id });
    assert.equal(await authenticateApiKey(store.db, `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`), null);
    assert.equal(await authenticateApiKey(store.db, 'garbage'), null);
    const other = await createTenant(store, admin, { name: 'Other' });
    await assert.rejects(revokeApiKey(store, admin, apiKey.id, { tenantId: other.id }), /not found/);
    await revokeApiKey(store, admin, apiKey.id, { tenantId: tenant.id });
    assert.equal(await authenticateApiKey(store.db, key), null);
    await assert.rejects(createApiKey(store, admin, { tenantId: other.id, accountId: acct.id }), /not found/);
  });
});
