import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Actor } from '../audit/log.ts';
import { verifyOperationLog } from '../audit/log.ts';
import { enqueueMessages } from '../delivery/index.ts';
import { makeSender } from '../delivery/queue/fixtures.ts';
import { testConfig } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { ArchiveCapture, archivePending, createHold, decideDeletion, expireArchived, requestDeletion, sealDigests, verifyArchive } from './index.ts';

const DAY = 86_400_000;
const alice: Actor = { operator: 'alice', userId: 'us_alice', clientIp: '127.0.0.1', role: 'administrator' };
const bob: Actor = { operator: 'bob', userId: 'us_bob', clientIp: '127.0.0.1', role: 'administrator' };

describeEachEngine('archive retention, legal holds, two-person deletion and the chained digest', (get) => {
  test('retention removes exactly the expired bodies not on hold; deletion needs a second person; the digest catches a tampered body and a removed row', async () => {
    const { store, dataDir } = get();
    const config = testConfig(dataDir).archive;
    const f = await makeSender(store, { name: 'retention', domain: 'keep.bank.test' });
    const g = await makeSender(store, { name: 'retention-held-tenant', domain: 'held.bank.test' });
    const T0 = Date.parse('2026-03-01T10:00:00Z');
    const mail = (tenantId: string, accountId: string, domain: string, to: string, subject: string) => ({
      tenantId, accountId, lane: 'transactional' as const, mailFrom: `n@${domain}`, recipients: [{ email: to }],
      raw: Buffer.from(`From: n@${domain}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@${domain}>\r\n\r\n${subject} body\r\n`),
    });
    const sent = await enqueueMessages(store, [
      mail(f.tenantId, f.account.id, f.domain, 'a@client.example', 'expires plain'),
      mail(f.tenantId, f.account.id, f.domain, 'held@client.example', 'expires held by address'),
      mail(f.tenantId, f.account.id, f.domain, 'b@client.example', 'expires litigation memo'),
      mail(f.tenantId, f.account.id, f.domain, 'c@client.example', 'kept longer'),
      mail(g.tenantId, g.account.id, g.domain, 'd@client.example', 'held by tenant'),
      mail(f.tenantId, f.account.id, f.domain, 'e@client.example', 'deleted by two people'),
    ], { now: T0 });
    await store.db.insertInto('archive_policies').values({ tenant_id: f.tenantId, default_days: 1, rules: JSON.stringify([{ account: 'none', days: 99 }]), updated_at: T0, updated_by: 'test' }).execute();
    await store.db.insertInto('archive_policies').values({ tenant_id: g.tenantId, default_days: 1, rules: '[]', updated_at: T0, updated_by: 'test' }).execute();
    const capture = new ArchiveCapture(store);
    const bodies = await store.db.selectFrom('delivery_messages').select(['id', 'body']).execute();
    for (const b of bodies) {
      const body = Buffer.from(b.body);
      capture.signed(b.id, body, Buffer.concat([Buffer.from('DKIM-Signature: v=1; test\r\n'), body]), T0);
    }
    await capture.flushed();
    assert.equal(await archivePending(store, config, { now: () => T0 }), 6);
    const ids = new Map((await store.db.selectFrom('archive_messages').select(['id', 'subject']).execute()).map((r) => [r.subject, Number(r.id)]));
    // "kept longer" gets ten days (archived before the others expire, policy changed for it alone).
    await store.db.updateTable('archive_messages').set({ expires_at: T0 + 10 * DAY }).where('id', '=', ids.get('kept longer')!).execute();

    await createHold(store, alice, { tenantId: f.tenantId, kind: 'address', address: 'Held@client.example', reason: 'complaint 2026-17' }, T0);
    await createHold(store, alice, { tenantId: f.tenantId, kind: 'search', search: { q: 'litigation' }, reason: 'court order 88' }, T0);
    await createHold(store, alice, { tenantId: g.tenantId, kind: 'tenant', reason: 'regulator inquiry' }, T0);
    await assert.rejects(createHold(store, alice, { tenantId: f.tenantId, kind: 'search', search: {}, reason: 'x' }), /at least one condition/);

    // Two people: the requester cannot approve; the approver's approval removes the body now.
    const req = await requestDeletion(store, alice, { archiveId: ids.get('deleted by two people')!, reason: 'sent to the wrong customer' }, null, T0);
    await assert.rejects(decideDeletion(store, alice, req.id, true, null, T0), /different user/);
    await assert.rejects(requestDeletion(store, alice, { archiveId: ids.get('expires held by address')!, reason: 'x' }, null, T0), /legal hold/);
    const done = await decideDeletion(store, bob, req.id, true, null, T0 + 1000);
    assert.equal(done.status, 'approved');
    await assert.rejects(decideDeletion(store, bob, req.id, true, null, T0), /already approved/);
    const ops = await store.db.selectFrom('operation_log').select(['operation', 'operator']).where('operation', 'like', 'archive.delete%').orderBy('id').execute();
    assert.deepEqual(ops.map((o) => [o.operation, o.operator]), [['archive.delete_request', 'alice'], ['archive.delete_approve', 'bob']]);

    // Nothing has expired yet at T0 + 12 h.
    assert.equal((await expireArchived(store, { now: T0 + DAY / 2 })).removed, 0);
    const r = await expireArchived(store, { now: T0 + 2 * DAY });
    assert.equal(r.removed, 1);
    assert.equal(r.held, 3);
    const state = Object.fromEntries((await store.db.selectFrom('archive_messages').select(['subject', 'removed_reason']).execute()).map((x) => [x.subject, x.removed_reason]));
    assert.deepEqual(state, {
      'expires plain': 'expired', 'expires held by address': null, 'expires litigation memo': null, 'kept longer': null, 'held by tenant': null, 'deleted by two people': 'deleted',
    });
    if (store.engine === 'sqlite') {
      const fts = await sql<{ n: number }>`select count(*) as n from archive_fts`.execute(store.db);
      assert.equal(Number(fts.rows[0]!.n), 4, 'removed bodies leave the full-text index');
    }

    // Days sealed; lawful removals verify; a tampered body and a vanished row do not.
    assert.equal(await sealDigests(store.db, T0 + 2 * DAY), 1);
    const clean = await verifyArchive(store.db);
    assert.deepEqual(clean.problems, []);
    assert.equal(clean.ok, true);
    assert.equal(clean.messagesChecked, 6);
    const victim = ids.get('kept longer')!;
    const original = await store.db.selectFrom('archive_messages').select('body').where('id', '=', victim).executeTakeFirstOrThrow();
    const forged = Buffer.from(Buffer.from(original.body!).toString().replace('kept longer body', 'kept LONGER body'));
    await store.db.updateTable('archive_messages').set({ body: forged }).where('id', '=', victim).execute();
    const tampered = await verifyArchive(store.db);
    assert.equal(tampered.ok, false);
    assert.deepEqual(tampered.problems.map((p) => [p.kind, p.archiveId]), [['body_altered', victim]]);
    await store.db.updateTable('archive_messages').set({ body: Buffer.from(original.body!) }).where('id', '=', victim).execute();
    await store.db.deleteFrom('archive_messages').where('id', '=', ids.get('expires plain')!).execute();
    const removed = await verifyArchive(store.db);
    assert.deepEqual(removed.problems.map((p) => p.kind), ['digest_mismatch']);
    // Removing a body behind the archive's back (no expiry, no approval) is named as such.
    await store.db.updateTable('archive_messages').set({ body: null, removed_at: T0, removed_reason: 'expired' }).where('id', '=', victim).execute();
    assert.ok((await verifyArchive(store.db)).problems.some((p) => p.kind === 'removed_outside_retention' && p.archiveId === victim));
    assert.equal((await verifyOperationLog(store.db)).ok, true);
    assert.equal(sent.length, 6);
  });
});
