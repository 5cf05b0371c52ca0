import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { dkimSign, dkimVerify } from 'mailauth';
import type { Actor } from '../audit/log.ts';
import { verifyOperationLog } from '../audit/log.ts';
import { AppError } from '../core/errors.ts';
import type { FailureKind } from '../core/errors.ts';
import { createTenant } from '../tenants/service.ts';
import { sql } from 'kysely';
import { Store } from '../store/store.ts';
import { describeEachEngine } from '../testing/stores.ts';
import {
  activateDkimKey, activeDkimKey, canSendFrom, checkDomainDns, createDomain, deleteDomain, dnsRecords, findDomainByReturnPath, findSendingDomain, getDomain, listDomains,
  registerDomainUsageCheck, resolveDomain, rotateDkimKey, setRequireVerification, verifyDomain,
} from './service.ts';
import type { DnsRecord, DnsResolver, RecordOptions, SendingDomainView } from './service.ts';

const admin: Actor = { operator: 'alice', clientIp: '10.0.0.5', role: 'administrator' };
const OPTIONS: RecordOptions = { mxHost: 'mx.fanout.example', sendingIps: ['192.0.2.10'] };

/** A DNS server in a map: names absent from it answer NXDOMAIN like a real resolver. */
function fakeDns(records: DnsRecord[]): DnsResolver & { txt: Map<string, string[][]>; mx: Map<string, { exchange: string; priority: number }[]> } {
  const txt = new Map<string, string[][]>();
  const mx = new Map<string, { exchange: string; priority: number }[]>();
  for (const r of records) {
    if (r.type === 'TXT') txt.set(r.name, [...(txt.get(r.name) ?? []), r.value.match(/.{1,255}/g)!]);
    if (r.type === 'MX') mx.set(r.name, [...(mx.get(r.name) ?? []), { exchange: r.value, priority: r.priority ?? 10 }]);
  }
  const nx = (name: string) => Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return {
    txt, mx,
    async resolveTxt(name) {
      const v = txt.get(name);
      if (!v) throw nx(name);
      return v;
    },
    async resolveMx(name) {
      const v = mx.get(name);
      if (!v) throw nx(name);
      return v;
    },
  };
}

async function counts(store: Store) {
  const n = async (table: 'sending_domains' | 'dkim_keys' | 'operation_log') =>
    Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return { domains: await n('sending_domains'), keys: await n('dkim_keys'), log: await n('operation_log') };
}

async function rejectsWith(p: Promise<unknown>, kind: FailureKind, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

const message = (from: string) => [
  `From: Statements <${from}>`, 'To: customer@example.net', 'Subject: Your statement', 'Date: Wed, 25 Nov 2026 10:00:00 +0000',
  'Message-ID: <1@bank.example>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'Your November statement is ready.', '',
].join('\r\n');

describeEachEngine('sending domains', (get) => {
  let tenantId = '';
  let otherTenantId = '';
  let domain: SendingDomainView;

  test('creation makes an RSA-2048 key whose public half is the DKIM record and signs mail mailauth verifies', async () => {
    const { store } = get();
    tenantId = (await createTenant(store, admin, { name: 'Card Centre' })).id;
    otherTenantId = (await createTenant(store, admin, { name: 'Securities' })).id;
    domain = await createDomain(store, admin, { tenantId, domain: 'Mail.Bank.Example' });
    assert.equal(domain.domain, 'mail.bank.example');
    assert.equal(domain.returnPathDomain, 'bounces.mail.bank.example');
    assert.match(domain.dkimSelector, /^fo\d{6}$/);
    assert.equal(domain.tenantId, tenantId);
    assert.equal(domain.verified, false);
    assert.equal(domain.canSend, true);
    assert.equal(domain.dkimKeys.length, 1);

    const key = await activeDkimKey(store, domain.id);
    assert.ok(key);
    assert.equal(key.domain, 'mail.bank.example');
    assert.equal(key.selector, domain.dkimSelector);
    const priv = createPrivateKey(key.privateKeyPem);
    assert.equal(priv.asymmetricKeyDetails?.modulusLength, 2048);
    const derivedPublic = createPublicKey(priv).export({ type: 'spki', format: 'der' }).toString('base64');
    const records = dnsRecords(domain, OPTIONS);
    const dkimRecord = records.find((r) => r.purpose === 'dkim')!;
    assert.equal(dkimRecord.name, `${domain.dkimSelector}._domainkey.mail.bank.example`);
    assert.equal(dkimRecord.value, `v=DKIM1; k=rsa; p=${derivedPublic}`);

    // The view carries no private key in any form.
    const viewText = JSON.stringify(await getDomain(store.db, domain.id)) + JSON.stringify(await listDomains(store.db));
    assert.ok(!viewText.includes('PRIVATE'));
    assert.ok(!viewText.includes(key.privateKeyPem.split('\n')[5]!));

    const dns = fakeDns(records);
    // mailauth reads the keys from signatureData; its typings also want them at the top level.
    const signer = { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKeyPem };
    const signed = await dkimSign(message('statements@mail.bank.example'), { ...signer, signatureData: [signer] });
    assert.deepEqual(signed.errors, []);
    assert.match(signed.signatures, /^DKIM-Signature: .*\bd=mail\.bank\.example;/s);
    assert.ok(signed.signatures.includes(` s=${key.selector};`));
    const verify = async (txt: Map<string, string[][]>) => {
      const result = await dkimVerify(signed.signatures + message('statements@mail.bank.example'), {
        resolver: async (name: string, rr: string) => {
          const v = rr === 'TXT' ? txt.get(name) : undefined;
          if (!v) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
          return v;
        },
      });
      return result.results[0]?.status.result;
    };
    assert.equal(await verify(dns.txt), 'pass');
    // Control: the same message against some other key must not pass, or the check above proves nothing.
    const other = await createDomain(store, admin, { tenantId, domain: 'other.bank.example' });
    const wrong = new Map(dns.txt);
    wrong.set(dkimRecord.name, [[`v=DKIM1; k=rsa; p=${other.dkimPublicKey}`]]);
    assert.equal(await verify(wrong), 'fail');
  });

  test('Unicode names are stored as A-labels and found in any spelling; the return path leads back', async () => {
    const { store } = get();
    const idn = await createDomain(store, admin, { tenantId: otherTenantId, domain: '银行.中国', selector: 'S1', returnPathDomain: 'rp.银行.中国' });
    assert.equal(idn.domain, 'xn--jn2a72x.xn--fiqs8s');
    assert.equal(idn.domainUnicode, '银行.中国');
    assert.equal(idn.dkimSelector, 's1');
    assert.equal(idn.returnPathDomain, 'rp.xn--jn2a72x.xn--fiqs8s');
    for (const spelling of ['银行.中国', 'XN--JN2A72X.xn--fiqs8s', 'xn--jn2a72x.xn--fiqs8s.']) {
      assert.deepEqual(await findSendingDomain(store.db, spelling), {
        id: idn.id, tenantId: otherTenantId, domain: 'xn--jn2a72x.xn--fiqs8s', returnPathDomain: 'rp.xn--jn2a72x.xn--fiqs8s', requireVerification: false, verified: false,
      });
    }
    assert.equal((await findDomainByReturnPath(store.db, 'RP.xn--jn2a72x.xn--fiqs8s'))?.id, idn.id);
    assert.equal(await findDomainByReturnPath(store.db, 'xn--jn2a72x.xn--fiqs8s'), null);
    assert.equal(await findSendingDomain(store.db, 'unknown.example'), null);
    assert.equal(await findSendingDomain(store.db, 'not a domain'), null);
    assert.equal((await resolveDomain(store.db, '银行.中国')).id, idn.id);
    assert.equal((await resolveDomain(store.db, idn.id)).domain, idn.domain);
    assert.deepEqual((await listDomains(store.db, { tenantId: otherTenantId })).map((d) => d.domain), ['xn--jn2a72x.xn--fiqs8s']);
  });

  test('bad names, duplicates, unknown tenants and clashing return paths are refused and write nothing', async () => {
    const { store } = get();
    const before = await counts(store);
    for (const bad of ['localhost', '192.0.2.1', 'bank.example/x', 'bank.example:25', 'ba nk.example', 'a..example']) {
      await rejectsWith(createDomain(store, admin, { tenantId, domain: bad }), 'validation', /^domain ".*" is not a valid domain name/);
    }
    await rejectsWith(createDomain(store, admin, { tenantId, domain: 'new.bank.example', returnPathDomain: 'bounces.elsewhere.example' }), 'validation', /returnPathDomain must be a sub-domain of new\.bank\.example/);
    await rejectsWith(createDomain(store, admin, { tenantId, domain: 'new.bank.example', returnPathDomain: 'new.bank.example' }), 'validation', /returnPathDomain/);
    await rejectsWith(createDomain(store, admin, { tenantId, domain: 'new.bank.example', selector: 'bad selector' }), 'validation', /selector/);
    await rejectsWith(createDomain(store, admin, { tenantId, domain: 'MAIL.bank.example' }), 'conflict', /already exists for this tenant/);
    await rejectsWith(createDomain(store, admin, { tenantId: otherTenantId, domain: 'mail.bank.example' }), 'conflict', /registered to another tenant/);
    await rejectsWith(createDomain(store, admin, { tenantId: 'tn_missing', domain: 'new.bank.example' }), 'not_found', /tenant "tn_missing" not found/);
    // bounces.mail.bank.example is mail.bank.example's return path: neither a second domain nor a second return path may take it.
    await rejectsWith(createDomain(store, admin, { tenantId, domain: 'bounces.mail.bank.example' }), 'conflict', /return-path domain of mail\.bank\.example/);
    await rejectsWith(createDomain(store, admin, { tenantId, domain: 'bank.example', returnPathDomain: 'bounces.mail.bank.example' }), 'conflict', /already in use/);
    assert.deepEqual(await counts(store), before);
  });

  test('racing writers: one domain name is taken once; rotations leave one active key', async () => {
    const { store: main, dataDir, databaseUrl } = get();
    // Racers get their own store (more connections, a marked name) so they really overlap on
    // both engines, and are gone before the suite's database is dropped.
    const url = databaseUrl ? `${databaseUrl}${databaseUrl.includes('?') ? '&' : '?'}application_name=domain-race` : null;
    const store = Store.open({ dataDir, databaseUrl: url });
    try {
      const same = await Promise.allSettled([1, 2, 3].map(() => createDomain(store, admin, { tenantId, domain: 'race.bank.example' })));
      assert.equal(same.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of same) if (r.status === 'rejected') assert.equal((r.reason as AppError).kind, 'conflict', String(r.reason));
      // Each return path lies under both names, so only the unique index can stop the second.
      const shared = await Promise.allSettled([
        createDomain(store, admin, { tenantId, domain: 'x.bank.example', returnPathDomain: 'rp.y.x.bank.example' }),
        createDomain(store, admin, { tenantId, domain: 'y.x.bank.example', returnPathDomain: 'rp.y.x.bank.example' }),
      ]);
      assert.equal(shared.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of shared) if (r.status === 'rejected') assert.equal((r.reason as AppError).kind, 'conflict', String(r.reason));
      for (const r of shared) if (r.status === 'fulfilled') await deleteDomain(store, admin, r.value.id);
      const raced = (await listDomains(store.db)).find((d) => d.domain === 'race.bank.example')!;
      const rotations = await Promise.allSettled(['r1', 'r2', 'r3'].map((sel) => rotateDkimKey(store, admin, raced.id, sel)));
      for (const r of rotations) if (r.status === 'rejected') assert.equal((r.reason as AppError).kind, 'conflict', String(r.reason));
      const active = await store.db.selectFrom('dkim_keys').select('selector').where('domain_id', '=', raced.id).where('active', '=', 1).execute();
      assert.equal(active.length, 1);
      assert.equal((await getDomain(store.db, raced.id)).dkimSelector, active[0]!.selector);
      await deleteDomain(store, admin, raced.id);
    } finally {
      await store.close();
    }
    if (url) {
      // pg's pool reports itself closed before its sockets are; wait until the server agrees.
      for (let i = 0; i < 100; i++) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where application_name = 'domain-race' and datname = current_database()`.execute(main.db);
        if (rows[0]?.n === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });

  test('verification: every record present → verified and stored', async () => {
    const { store } = get();
    const before = await counts(store);
    const report = await verifyDomain(store, admin, domain.id, fakeDns(dnsRecords(domain, OPTIONS)), OPTIONS);
    assert.equal(report.status, 'verified');
    assert.deepEqual(report.checks.map((c) => [c.purpose, c.status]), [['spf', 'ok'], ['dkim', 'ok'], ['dmarc', 'ok'], ['return_path_mx', 'ok'], ['return_path_spf', 'ok']]);
    assert.deepEqual(report.problems, []);
    const after = await getDomain(store.db, domain.id);
    assert.equal(after.verified, true);
    assert.ok(after.verifiedAt);
    assert.deepEqual(after.lastCheck, report);
    assert.equal((await findSendingDomain(store.db, domain.domain))?.verified, true);
    assert.deepEqual(await counts(store), { ...before, log: before.log + 1 });
  });

  test('verification reports a missing DKIM key and a wrong SPF precisely, and clears verified', async () => {
    const { store } = get();
    const records = dnsRecords(domain, OPTIONS);
    const dns = fakeDns(records);
    dns.txt.delete(`${domain.dkimSelector}._domainkey.${domain.domain}`);
    dns.txt.set(domain.returnPathDomain, [['v=spf1 ip4:198.51.100.7 -all']]);
    dns.txt.set(domain.domain, [['v=spf1 include:_spf.example.net ~all'], ['v=spf1 mx -all']]);
    dns.mx.set(domain.returnPathDomain, [{ exchange: 'mx.elsewhere.example.', priority: 5 }]);
    dns.txt.set(`_dmarc.${domain.domain}`, [['v=DMARC1; p=reject; rua=mailto:d@bank.example']]);
    const report = await verifyDomain(store, admin, domain.id, dns, OPTIONS);
    assert.equal(report.status, 'failed');
    assert.equal(report.verified, false);
    const by = Object.fromEntries(report.checks.map((c) => [c.purpose, c]));
    assert.equal(by.dkim?.status, 'missing');
    assert.equal(by.dkim?.name, `${domain.dkimSelector}._domainkey.mail.bank.example`);
    assert.equal(by.return_path_spf?.status, 'mismatch');
    assert.deepEqual(by.return_path_spf?.found, ['v=spf1 ip4:198.51.100.7 -all']);
    assert.match(by.return_path_spf!.message, /add ip4:192\.0\.2\.10/);
    assert.equal(by.spf?.status, 'mismatch');
    assert.match(by.spf!.message, /2 SPF records/);
    assert.equal(by.spf?.required, false);
    assert.equal(by.return_path_mx?.status, 'mismatch');
    assert.deepEqual(by.return_path_mx?.found, ['5 mx.elsewhere.example']);
    assert.equal(by.dmarc?.status, 'ok');
    assert.match(by.dmarc!.message, /p=reject/);
    assert.equal(report.problems.length, 4);
    assert.match(report.problems.at(-1)!, /^\(recommended\)/);
    assert.equal((await getDomain(store.db, domain.id)).verified, false);

    // No record at _dmarc.mail.bank.example: the parent's policy applies (its sp= for sub-domains).
    const inherited = fakeDns(records);
    inherited.txt.delete(`_dmarc.${domain.domain}`);
    assert.equal((await verifyDomain(store, admin, domain.id, inherited, OPTIONS)).checks.find((c) => c.purpose === 'dmarc')?.status, 'missing');
    inherited.txt.set('_dmarc.bank.example', [['v=DMARC1; p=reject; sp=quarantine']]);
    const viaParent = (await verifyDomain(store, admin, domain.id, inherited, OPTIONS)).checks.find((c) => c.purpose === 'dmarc')!;
    assert.equal(viaParent.status, 'ok');
    assert.equal(viaParent.message, 'DMARC policy p=quarantine inherited from _dmarc.bank.example');
    assert.deepEqual(viaParent.found, ['v=DMARC1; p=reject; sp=quarantine']);

    // A DKIM record holding some other key is a mismatch, not a pass.
    const stale = fakeDns(records);
    stale.txt.set(`${domain.dkimSelector}._domainkey.${domain.domain}`, [['v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwrong']]);
    const r2 = await verifyDomain(store, admin, domain.id, stale, OPTIONS);
    assert.deepEqual(r2.checks.filter((c) => c.status !== 'ok').map((c) => [c.purpose, c.status]), [['dkim', 'mismatch']]);
  });

  test('a resolver that fails gives lookup_failed per record, never an exception, and keeps the last verdict', async () => {
    const { store } = get();
    await verifyDomain(store, admin, domain.id, fakeDns(dnsRecords(domain, OPTIONS)), OPTIONS);
    const verifiedAt = (await getDomain(store.db, domain.id)).verifiedAt;
    assert.ok(verifiedAt);
    const broken: DnsResolver = {
      resolveTxt: async () => { throw Object.assign(new Error('queryTxt ECONNREFUSED bank.example'), { code: 'ECONNREFUSED' }); },
      resolveMx: async () => { throw new Error('no network'); },
    };
    const report = await verifyDomain(store, admin, domain.id, broken, OPTIONS);
    assert.equal(report.status, 'lookup_failed');
    assert.ok(report.checks.every((c) => c.status === 'lookup_failed'));
    assert.match(report.checks.find((c) => c.purpose === 'dkim')!.error!, /ECONNREFUSED/);
    assert.equal(report.checks.find((c) => c.purpose === 'return_path_mx')!.error, 'no network');
    assert.equal((await getDomain(store.db, domain.id)).verifiedAt, verifiedAt);
    assert.equal((await getDomain(store.db, domain.id)).lastCheck?.status, 'lookup_failed');
  });

  test('checkDomainDns judges without storing or logging (for scheduled inspections)', async () => {
    const { store } = get();
    const before = await counts(store);
    const stored = await getDomain(store.db, domain.id);
    const dns = fakeDns(dnsRecords(domain, OPTIONS));
    dns.txt.delete(`_dmarc.${domain.domain}`);
    const report = await checkDomainDns(stored, dns, OPTIONS);
    assert.equal(report.status, 'failed');
    assert.deepEqual(report.problems, ['no DMARC record at _dmarc.mail.bank.example']);
    assert.deepEqual(await counts(store), before);
    assert.deepEqual(await getDomain(store.db, domain.id), stored);
  });

  test('canSendFrom: blocked only when verification is required and has not passed', async () => {
    const { store } = get();
    assert.equal(canSendFrom({ requireVerification: false, verified: false }), true);
    assert.equal(canSendFrom({ requireVerification: false, verified: true }), true);
    assert.equal(canSendFrom({ requireVerification: true, verified: true }), true);
    assert.equal(canSendFrom({ requireVerification: true, verified: false }), false);

    const fresh = await createDomain(store, admin, { tenantId, domain: 'news.bank.example' });
    assert.equal(canSendFrom((await findSendingDomain(store.db, fresh.domain))!), true);
    const held = await setRequireVerification(store, admin, fresh.id, true);
    assert.equal(held.requireVerification, true);
    assert.equal(held.canSend, false);
    assert.equal(canSendFrom((await findSendingDomain(store.db, fresh.domain))!), false);
    await verifyDomain(store, admin, fresh.id, fakeDns(dnsRecords(fresh, OPTIONS)), OPTIONS);
    assert.equal(canSendFrom((await findSendingDomain(store.db, fresh.domain))!), true);
    const logBefore = (await counts(store)).log;
    await setRequireVerification(store, admin, fresh.id, true);
    assert.equal((await counts(store)).log, logBefore, 'no change, no entry');
    assert.equal((await setRequireVerification(store, admin, fresh.id, false)).requireVerification, false);
    await rejectsWith(setRequireVerification(store, admin, 'dm_missing', true), 'not_found', /sending domain/);
  });

  test('rotation keeps the old key retired, switches the active one and returns the new record', async () => {
    const { store } = get();
    const oldKey = (await activeDkimKey(store, domain.id))!;
    const rotated = await rotateDkimKey(store, admin, domain.id, 'Fo2027a');
    assert.equal(rotated.previousSelector, oldKey.selector);
    assert.equal(rotated.domain.dkimSelector, 'fo2027a');
    assert.equal(rotated.record.name, 'fo2027a._domainkey.mail.bank.example');
    assert.equal(rotated.record.value, `v=DKIM1; k=rsa; p=${rotated.domain.dkimPublicKey}`);
    assert.equal(rotated.domain.verified, false, 'the new selector is not proven published');
    const newKey = (await activeDkimKey(store, domain.id))!;
    assert.equal(newKey.selector, 'fo2027a');
    assert.notEqual(newKey.privateKeyPem, oldKey.privateKeyPem);
    assert.equal(createPublicKey(newKey.privateKeyPem).export({ type: 'spki', format: 'der' }).toString('base64'), rotated.domain.dkimPublicKey);
    const keys = await store.db.selectFrom('dkim_keys').selectAll().where('domain_id', '=', domain.id).orderBy('created_at').execute();
    assert.equal(keys.length, 2);
    assert.deepEqual(keys.map((k) => [k.selector, k.active, k.retired_at === null]), [[oldKey.selector, 0, false], ['fo2027a', 1, true]]);
    assert.equal(store.secrets.open(keys[0]!.private_key_pem, `dkim_keys.private_key_pem:${keys[0]!.id}`), oldKey.privateKeyPem, 'the retired key is kept (sealed)');

    await rejectsWith(rotateDkimKey(store, admin, domain.id, oldKey.selector), 'conflict', /already used/);
    const auto = await rotateDkimKey(store, admin, domain.id);
    assert.match(auto.domain.dkimSelector, /^fo\d{6}[b-z]?$/);
    assert.notEqual(auto.domain.dkimSelector, oldKey.selector);
    assert.equal((await store.db.selectFrom('dkim_keys').select('id').where('domain_id', '=', domain.id).where('active', '=', 1).execute()).length, 1);
    domain = auto.domain;
  });

  test('a prepared key is published and verified before it signs; activation then keeps the domain verified', async () => {
    const { store } = get();
    const signing = (await activeDkimKey(store, domain.id))!;
    const prepared = await rotateDkimKey(store, admin, domain.id, 'next7', { activate: false });
    assert.equal(prepared.activated, false);
    assert.equal(prepared.previousSelector, signing.selector);
    assert.deepEqual([prepared.record.purpose, prepared.record.name], ['dkim_next', 'next7._domainkey.mail.bank.example']);
    assert.equal(prepared.domain.dkimSelector, signing.selector);
    assert.equal(prepared.domain.pendingDkim?.selector, 'next7');
    assert.deepEqual(await activeDkimKey(store, domain.id), signing, 'the old key goes on signing');
    await rejectsWith(rotateDkimKey(store, admin, domain.id, 'next8', { activate: false }), 'conflict', /prepared key \(selector next7\).*activate it first/);

    const records = dnsRecords(prepared.domain, OPTIONS);
    assert.deepEqual(records.map((r) => r.purpose), ['spf', 'dkim', 'dkim_next', 'dmarc', 'return_path_mx', 'return_path_spf']);
    const report = await verifyDomain(store, admin, domain.id, fakeDns(records), OPTIONS);
    assert.equal(report.status, 'verified');
    assert.equal(report.checks.find((c) => c.purpose === 'dkim_next')?.status, 'ok');
    const active = await activateDkimKey(store, admin, domain.id);
    assert.equal(active.dkimSelector, 'next7');
    assert.equal(active.pendingDkim, null);
    assert.equal(active.verified, true, 'the new record was seen published');
    assert.equal((await activeDkimKey(store, domain.id))?.selector, 'next7');
    assert.ok(active.dkimKeys.find((k) => k.selector === signing.selector)?.retiredAt);
    await rejectsWith(activateDkimKey(store, admin, domain.id), 'conflict', /no prepared DKIM key/);

    // Prepared but never seen in DNS: the domain is verified on the old key, unverified after the switch.
    const unseen = await rotateDkimKey(store, admin, domain.id, 'next8', { activate: false });
    const r2 = await verifyDomain(store, admin, domain.id, fakeDns(dnsRecords(unseen.domain, OPTIONS).filter((r) => r.purpose !== 'dkim_next')), OPTIONS);
    assert.equal(r2.status, 'verified');
    assert.equal(r2.checks.find((c) => c.purpose === 'dkim_next')?.status, 'missing');
    assert.equal((await activateDkimKey(store, admin, domain.id)).verified, false);

    // An immediate rotation replaces a prepared key, which never signed anything.
    await rotateDkimKey(store, admin, domain.id, 'next9', { activate: false });
    const now = await rotateDkimKey(store, admin, domain.id, 'next10');
    assert.equal(now.domain.dkimSelector, 'next10');
    assert.equal(now.domain.pendingDkim, null);
    assert.ok(!now.domain.dkimKeys.some((k) => k.selector === 'next9'));
    domain = now.domain;
  });

  test('deletion is refused while in use, then removes the domain and its keys', async () => {
    const { store } = get();
    const victim = await createDomain(store, admin, { tenantId, domain: 'old.bank.example' });
    const unregister = registerDomainUsageCheck(async (_db, d) => (d.id === victim.id ? '3 messages queued' : null));
    try {
      const before = await counts(store);
      await rejectsWith(deleteDomain(store, admin, victim.id), 'conflict', /in use: 3 messages queued/);
      assert.deepEqual(await counts(store), before);
    } finally {
      unregister();
    }
    await deleteDomain(store, admin, victim.id);
    assert.equal(await findSendingDomain(store.db, 'old.bank.example'), null);
    assert.equal(await activeDkimKey(store, victim.id), null);
    await rejectsWith(getDomain(store.db, victim.id), 'not_found', /sending domain/);
    await rejectsWith(deleteDomain(store, admin, victim.id), 'not_found', /sending domain/);
  });

  test('every write left an operation-log entry, and none holds private key material', async () => {
    const { store } = get();
    const entries = await store.db.selectFrom('operation_log').selectAll().where('object_type', '=', 'domain').execute();
    const ops = new Set(entries.map((e) => e.operation));
    for (const op of ['domain.create', 'domain.verify', 'domain.rotate_dkim', 'domain.prepare_dkim', 'domain.activate_dkim', 'domain.require_verification', 'domain.delete']) assert.ok(ops.has(op), op);
    const create = entries.find((e) => e.operation === 'domain.create' && e.object_id === domain.id)!;
    assert.equal(create.operator, 'alice');
    assert.equal(create.tenant_id, tenantId);
    assert.match(create.description, /mail\.bank\.example/);
    assert.match(create.details, /"keyFingerprint":"sha256:[0-9a-f]{32}"/);
    const text = JSON.stringify(await store.db.selectFrom('operation_log').selectAll().execute());
    assert.ok(!/PRIVATE KEY/.test(text));
    const sealed = await store.db.selectFrom('dkim_keys').select(['id', 'private_key_pem']).execute();
    assert.ok(sealed.length >= 3);
    for (const { id, private_key_pem: stored } of sealed) {
      assert.doesNotMatch(stored, /PRIVATE KEY/, 'the private key is sealed in the store');
      const pem = store.secrets.open(stored, `dkim_keys.private_key_pem:${id}`);
      const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
      for (let i = 0; i + 32 <= body.length; i += 32) assert.ok(!text.includes(body.slice(i, i + 32)), 'a piece of a private key is in the operation log');
    }
    assert.equal((await verifyOperationLog(store.db)).ok, true);
  });
});
