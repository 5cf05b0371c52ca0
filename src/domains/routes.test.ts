import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from '../http/app.ts';
import { apiRoutes as routeModules } from '../app/capabilities.ts';
import { sessionFor, testConfig } from '../testing/http.ts';
import type { Session } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { createDomainRoutes, domainRoutes } from './routes.ts';
import type { DnsRecord, DnsResolver } from './service.ts';

/** DNS as the test publishes it: records are added by the test, anything else is NXDOMAIN. */
function publishedDns() {
  const txt = new Map<string, string[][]>();
  const mx = new Map<string, { exchange: string; priority: number }[]>();
  const nx = () => Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
  const resolver: DnsResolver = {
    async resolveTxt(name) { const v = txt.get(name); if (!v) throw nx(); return v; },
    async resolveMx(name) { const v = mx.get(name); if (!v) throw nx(); return v; },
  };
  const publish = (records: DnsRecord[]) => {
    for (const r of records) {
      if (r.type === 'TXT') txt.set(r.name, [...(txt.get(r.name) ?? []), [r.value]]);
      else mx.set(r.name, [{ exchange: r.value, priority: r.priority ?? 10 }]);
    }
  };
  return { resolver, publish };
}

describeEachEngine('sending domains HTTP API', (get) => {
  let app: FastifyInstance;
  let admin: Session;
  let tenantId = '';
  let otherTenantId = '';
  let domainId = '';
  const dns = publishedDns();

  test('setup', async () => {
    const { store, dataDir } = get();
    const modules = [...routeModules.filter((m) => m !== domainRoutes), createDomainRoutes({ resolver: dns.resolver })];
    app = await buildHttpApp({ store, config: testConfig(dataDir, { delivery: { heloName: 'mx.fanout.example' } }) }, modules);
    admin = await sessionFor(app, store, 'administrator');
    tenantId = (await admin.request('POST', '/api/v1/tenants', { name: 'Card Centre' })).json().id;
    otherTenantId = (await admin.request('POST', '/api/v1/tenants', { name: 'Wealth' })).json().id;
  });

  test('creating a domain answers 201 with the DNS records and never the private key', async () => {
    const res = await admin.request('POST', `/api/v1/tenants/${tenantId}/domains`, { domain: 'Cards.Bank.Example' });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    domainId = body.id;
    assert.equal(body.domain, 'cards.bank.example');
    assert.equal(body.canSend, true);
    assert.deepEqual(body.records.map((r: DnsRecord) => r.purpose), ['spf', 'dkim', 'dmarc', 'return_path_mx', 'return_path_spf']);
    assert.equal(body.records.find((r: DnsRecord) => r.purpose === 'return_path_mx').value, 'mx.fanout.example');
    assert.match(body.zoneFile, /^bounces\.cards\.bank\.example\.\t3600\tIN\tMX\t10 mx\.fanout\.example\.$/m);
    assert.doesNotMatch(res.body, /PRIVATE|private_key|privateKey/);
    const records = await admin.request('GET', `/api/v1/domains/${domainId}/records`);
    assert.deepEqual(records.json().items, body.records);
  });

  test('bad input answers problem+json and writes nothing', async () => {
    const { store } = get();
    const count = async () => Number((await store.db.selectFrom('sending_domains').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const bad = await admin.request('POST', `/api/v1/tenants/${tenantId}/domains`, { domain: 'bank.example/evil' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(bad.json().errors[0].field, 'domain');
    const unknownField = await admin.request('POST', `/api/v1/tenants/${tenantId}/domains`, { domain: 'x.bank.example', privateKey: 'mine' });
    assert.equal(unknownField.statusCode, 400);
    assert.equal(unknownField.json().errors[0].field, '/body/privateKey');
    assert.equal((await admin.request('POST', `/api/v1/tenants/${otherTenantId}/domains`, { domain: 'cards.bank.example' })).statusCode, 409);
    assert.equal((await admin.request('POST', '/api/v1/tenants/tn_nope/domains', { domain: 'y.bank.example' })).statusCode, 404);
    assert.equal((await admin.request('PUT', `/api/v1/domains/${domainId}/require-verification`, { requireVerification: 'yes' })).statusCode, 400);
    assert.equal(await count(), before);
  });

  test('verification through the API reports what is missing, then verifies once published', async () => {
    const first = await admin.request('POST', `/api/v1/domains/${domainId}/verify`);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().status, 'failed');
    assert.ok(first.json().checks.every((c: { status: string }) => c.status === 'missing'));
    dns.publish((await admin.request('GET', `/api/v1/domains/${domainId}/records`)).json().items);
    const second = await admin.request('POST', `/api/v1/domains/${domainId}/verify`);
    assert.equal(second.json().status, 'verified');
    assert.equal((await admin.request('GET', `/api/v1/domains/${domainId}`)).json().verified, true);
  });

  test('operators see and verify only their own tenant\'s domains and change nothing', async () => {
    const { store } = get();
    const theirs = (await admin.request('POST', `/api/v1/tenants/${otherTenantId}/domains`, { domain: 'wealth.bank.example' })).json();
    const op = await sessionFor(app, store, 'operator', tenantId);
    assert.deepEqual((await op.request('GET', '/api/v1/domains')).json().items.map((d: { id: string }) => d.id), [domainId]);
    assert.deepEqual((await op.request('GET', `/api/v1/domains?tenantId=${otherTenantId}`)).json().items, []);
    assert.equal((await op.request('GET', `/api/v1/domains/${theirs.id}`)).statusCode, 404);
    assert.equal((await op.request('POST', `/api/v1/domains/${theirs.id}/verify`)).statusCode, 404);
    assert.equal((await op.request('POST', `/api/v1/domains/${domainId}/verify`)).statusCode, 200);
    assert.equal((await op.request('POST', `/api/v1/domains/${domainId}/rotate-dkim`, {})).statusCode, 403);
    assert.equal((await op.request('DELETE', `/api/v1/domains/${domainId}`)).statusCode, 403);
    assert.equal((await op.request('POST', `/api/v1/domains/${domainId}/activate-dkim`)).statusCode, 403);
    assert.equal((await op.request('POST', `/api/v1/tenants/${tenantId}/domains`, { domain: 'mine.bank.example' })).statusCode, 403);
    const auditor = await sessionFor(app, store, 'auditor');
    assert.equal((await auditor.request('GET', '/api/v1/domains')).json().items.length, 2);
    assert.equal((await auditor.request('POST', `/api/v1/domains/${domainId}/verify`)).statusCode, 403);
  });

  test('rotation, the verification switch and deletion', async () => {
    const rotated = await admin.request('POST', `/api/v1/domains/${domainId}/rotate-dkim`, { selector: 'next1' });
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal(rotated.json().record.name, 'next1._domainkey.cards.bank.example');
    assert.match(rotated.json().zoneLine, /^next1\._domainkey\.cards\.bank\.example\.\t3600\tIN\tTXT\t\( "v=DKIM1; k=rsa; p=/);
    assert.equal(rotated.json().domain.dkimKeys.length, 2);
    assert.doesNotMatch(rotated.body, /PRIVATE/);
    assert.equal((await admin.request('POST', `/api/v1/domains/${domainId}/rotate-dkim`, { selector: 'next1' })).statusCode, 409);
    const prepared = await admin.request('POST', `/api/v1/domains/${domainId}/rotate-dkim`, { selector: 'next2', activate: false });
    assert.equal(prepared.json().activated, false);
    assert.equal(prepared.json().domain.dkimSelector, 'next1');
    assert.equal(prepared.json().record.purpose, 'dkim_next');
    const activated = await admin.request('POST', `/api/v1/domains/${domainId}/activate-dkim`);
    assert.equal(activated.statusCode, 200, activated.body);
    assert.equal(activated.json().dkimSelector, 'next2');
    assert.equal((await admin.request('POST', `/api/v1/domains/${domainId}/activate-dkim`)).statusCode, 409);
    const held = await admin.request('PUT', `/api/v1/domains/${domainId}/require-verification`, { requireVerification: true });
    assert.equal(held.json().canSend, false, 'the new selector is not verified yet');
    assert.equal((await admin.request('DELETE', `/api/v1/domains/${domainId}`)).statusCode, 204);
    assert.equal((await admin.request('GET', `/api/v1/domains/${domainId}`)).statusCode, 404);
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    assert.ok(doc.paths['/api/v1/tenants/{tenantId}/domains'].post.requestBody);
    assert.ok(doc.paths['/api/v1/domains/{id}/verify'].post);
    await app.close();
  });
});
