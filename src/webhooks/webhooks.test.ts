import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { Actor } from '../audit/index.ts';
import { recordBounceEvent } from '../bounces/index.ts';
import { writeMessages } from '../delivery/queue/enqueue.ts';
import { createAccount } from '../accounts/service.ts';
import { createDomain } from '../domains/service.ts';
import { createTenant } from '../tenants/service.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { dispatchRound, retryDelay, RETRY_SCHEDULE_MS } from './dispatcher.ts';
import { emitWebhookEvents } from './events.ts';
import { NetworkPolicy } from './network.ts';

const admin: Actor = { operator: 'admin', clientIp: '127.0.0.1', role: 'administrator' };

interface Received {
  id: string;
  signature: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> };
}

/** A business system's receiver: verifies every signature with the standardwebhooks package, answers as told. */
async function receiver() {
  const secrets: string[] = [];
  const received: Received[] = [];
  const unverified: string[] = [];
  let answer: (r: Received) => { status: number; headers?: Record<string, string> } = () => ({ status: 204 });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const payload = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
      const ok = secrets.some((s) => {
        try {
          new Webhook(s).verify(payload, headers);
          return true;
        } catch {
          return false;
        }
      });
      if (!ok) {
        unverified.push(payload);
        res.writeHead(400).end();
        return;
      }
      const r = { id: headers['webhook-id'], signature: headers['webhook-signature'], body: JSON.parse(payload) as Received['body'] };
      received.push(r);
      const a = answer(r);
      res.writeHead(a.status, a.headers).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, port: (server.address() as AddressInfo).port, secrets, received, unverified,
    answer: (f: typeof answer) => {
      answer = f;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeEachEngine('webhooks', (get) => {
  test('signed Standard Webhooks deliveries from the outbox; retries keep the webhook-id; Retry-After; 410 disables; rotation signs twice; replay; SSRF refusals; history; operation log', async () => {
    const { store, dataDir } = get();
    const rx = await receiver();
    const tenant = await createTenant(store, admin, { name: 'Brokerage' });
    const other = await createTenant(store, admin, { name: 'Other' });
    const strict = await testApp(store, dataDir);
    const open = await testApp(store, dataDir, { webhooks: { allowedNetworks: ['127.0.0.0/8'] } });
    const strictAdmin = await sessionFor(strict, store, 'administrator');
    const operator = await sessionFor(open, store, 'operator', tenant.id);
    const strictPolicy = new NetworkPolicy([]);
    const policy = new NetworkPolicy(['127.0.0.0/8']);
    const dispatch = async (p = policy) => {
      let n = 0;
      for (let round; (round = await dispatchRound(store, { policy: p, timeoutMs: 5000, concurrency: 8, random: () => 0.5 })) > 0;) n += round;
      return n;
    };
    const endpoints = async () => (await store.db.selectFrom('webhook_endpoints').select('id').execute()).length;
    try {
      // A loopback target is refused until its network is allowed; a malformed URL or event name changes nothing.
      for (const [body, field] of [
        [{ url: rx.url, events: ['message.delivered'], tenantId: tenant.id }, '/body/url'],
        [{ url: 'not a url', events: ['message.delivered'], tenantId: tenant.id }, '/body/url'],
        [{ url: 'ftp://example.com/x', events: ['message.delivered'], tenantId: tenant.id }, '/body/url'],
        [{ url: 'https://example.com/x', events: ['message.exploded'], tenantId: tenant.id }, '/body/events/0'],
        [{ url: 'https://example.com/x', events: ['message.delivered'] }, '/body/tenantId'],
      ] as const) {
        const r = await strictAdmin.request('POST', '/api/v1/webhooks', body);
        assert.equal(r.statusCode, 400, JSON.stringify(body));
        assert.ok(r.body.includes(field), `${field} in ${r.body}`);
      }
      assert.equal(await endpoints(), 0);
      // A host name is checked when the connection is made: localhost resolves to loopback, refused.
      const viaName = await strictAdmin.request('POST', '/api/v1/webhooks', { url: `http://localhost:${rx.port}/hooks`, events: ['message.delivered'], tenantId: other.id, description: 'by name' });
      assert.equal(viaName.statusCode, 201, viaName.body);

      // The name-resolved loopback endpoint is refused at connect time by the strict policy.
      await store.transaction((trx) => emitWebhookEvents(trx, [{ tenantId: other.id, type: 'message.delivered', data: { recipient: 'first@x.example' } }]));
      await dispatch(strictPolicy);
      const refused = await store.db.selectFrom('webhook_attempts').select(['error']).where('endpoint_id', '=', viaName.json().id).execute();
      assert.equal(refused.length, 1);
      assert.match(refused[0]!.error!, /refused.*loopback/);
      assert.equal(rx.received.length, 0, 'strict policy: nothing reached the receiver');
      assert.equal((await strictAdmin.request('DELETE', `/api/v1/webhooks/${viaName.json().id}`)).statusCode, 204);
      const created = await operator.request('POST', '/api/v1/webhooks', { url: rx.url, events: ['message.delivered', 'message.failed', 'message.complained'], description: 'core banking' });
      assert.equal(created.statusCode, 201, created.body);
      const hook = created.json() as { id: string; secret: string; tenantId: string; events: string[] };
      assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
      assert.equal(hook.tenantId, tenant.id);
      rx.secrets.push(hook.secret);
      const listed = (await operator.request('GET', '/api/v1/webhooks')).json() as { items: Record<string, unknown>[] };
      assert.deepEqual(listed.items.map((w) => [w.url, w.events, w.description]), [[rx.url, ['message.delivered', 'message.failed', 'message.complained'], 'core banking']]);
      assert.ok(!JSON.stringify(listed).includes('whsec_'), 'the secret is shown once only');

      // Events in the outbox in the writer's transaction: only subscribed types of the tenant are kept.
      await store.transaction((trx) => emitWebhookEvents(trx, [
        ...Array.from({ length: 20 }, (_, i) => ({ tenantId: tenant.id, type: 'message.delivered' as const, data: { recipient: `u${i}@x.example` } })),
        { tenantId: tenant.id, type: 'message.opened' as const, data: {} },
        { tenantId: other.id, type: 'message.delivered' as const, data: { recipient: 'elsewhere@x.example' } },
      ]));
      // A rolled-back change publishes nothing.
      await assert.rejects(store.transaction(async (trx) => {
        await emitWebhookEvents(trx, [{ tenantId: tenant.id, type: 'message.failed', data: { recipient: 'ghost@x.example' } }]);
        throw new Error('rolled back');
      }));
      // Through the bounce listener's writer: a complaint.
      const account = await createAccount(store, admin, { tenantId: tenant.id, name: 'brk', password: 'long enough' });
      await createDomain(store, admin, { tenantId: tenant.id, domain: 'brk.example' });
      const [written] = await store.transaction((trx) => writeMessages(trx, [{ tenantId: tenant.id, accountId: account.id, lane: 'bulk', mailFrom: 'a@brk.example', recipients: [{ email: 'c@x.example' }], raw: Buffer.from('Subject: x\r\n\r\nx') }]));
      const msg = written!.ok ? written!.result : null;
      await store.transaction((trx) => recordBounceEvent(trx, { inboundId: null, tenantId: tenant.id, messageId: msg!.messageId, recipientId: msg!.recipientIds[0]!, recipient: 'c@x.example', kind: 'complaint', reason: 'feedback', hard: false, status: '', replyCode: '', diagnostic: 'abuse', linkedBy: 'verp' }));

      rx.answer((r) => ({ status: r.body.data.recipient === 'u3@x.example' ? 500 : 204 }));
      await dispatch();
      assert.deepEqual(rx.unverified, []);
      assert.equal(rx.received.length, 21, 'each stored event once (u3 answered 500)');
      assert.deepEqual(new Set(rx.received.map((r) => r.body.type)), new Set(['message.delivered', 'message.complained']));
      const complaint = rx.received.find((r) => r.body.type === 'message.complained')!;
      assert.equal(complaint.body.data.messageId, msg!.messageId);
      assert.ok(!Number.isNaN(Date.parse(complaint.body.timestamp)));
      const failedOnce = rx.received.find((r) => r.body.data.recipient === 'u3@x.example')!;
      const pending = await store.db.selectFrom('webhook_deliveries').select(['status', 'attempts', 'next_attempt_at', 'last_status_code']).where('status', '=', 'pending').execute();
      assert.equal(pending.length, 1);
      assert.equal(pending[0]!.last_status_code, 500);
      assert.ok(Number(pending[0]!.next_attempt_at) > Date.now() + 3000, 'waits before the retry');

      // Time passes; the retry carries the same webhook-id, and this time the receiver asks to wait an hour.
      rx.answer(() => ({ status: 503, headers: { 'retry-after': '3600' } }));
      await store.db.updateTable('webhook_deliveries').set({ next_attempt_at: 0 }).where('status', '=', 'pending').execute();
      await dispatch();
      assert.equal(rx.received.at(-1)!.id, failedOnce.id);
      const waiting = await store.db.selectFrom('webhook_deliveries').select(['next_attempt_at', 'attempts']).where('status', '=', 'pending').executeTakeFirstOrThrow();
      assert.ok(Number(waiting.next_attempt_at) >= Date.now() + 3_500_000, 'Retry-After honoured');
      assert.equal(waiting.attempts, 2);
      rx.answer(() => ({ status: 200 }));
      await store.db.updateTable('webhook_deliveries').set({ next_attempt_at: 0 }).where('status', '=', 'pending').execute();
      await dispatch();
      assert.equal(rx.received.filter((r) => r.id === failedOnce.id).length, 3);
      assert.equal((await store.db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').execute()).length, 0);

      // History of the endpoint, newest first, with attempts.
      const history = (await operator.request('GET', `/api/v1/webhooks/${hook.id}/deliveries?limit=100`)).json() as { items: { webhookId: string; attempts: number; status: string }[] };
      assert.equal(history.items.length, 21);
      assert.deepEqual(history.items.find((d) => d.webhookId === failedOnce.id), { ...history.items.find((d) => d.webhookId === failedOnce.id), attempts: 3, status: 'delivered' });

      // Rotation: during the overlap every delivery carries two signatures; each secret verifies alone.
      const rotated = await operator.request('POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, { overlapHours: 1 });
      assert.equal(rotated.statusCode, 200, rotated.body);
      const fresh = rotated.json().secret as string;
      assert.notEqual(fresh, hook.secret);
      rx.secrets.splice(0, rx.secrets.length, fresh);
      await store.transaction((trx) => emitWebhookEvents(trx, [{ tenantId: tenant.id, type: 'message.failed', data: { recipient: 'z@x.example' } }]));
      await dispatch();
      const last = rx.received.at(-1)!;
      assert.equal(last.signature.split(' ').length, 2);
      assert.deepEqual(rx.unverified, []);

      // Replay of a time range: the same events again, same webhook-ids.
      const before = rx.received.length;
      const replay = await operator.request('POST', `/api/v1/webhooks/${hook.id}/replay`, { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 1000).toISOString() });
      assert.equal(replay.statusCode, 200, replay.body);
      assert.equal(replay.json().replayed, 22);
      await dispatch();
      const replayed = rx.received.slice(before);
      assert.equal(replayed.length, 22);
      assert.ok(replayed.every((r) => rx.received.slice(0, before).some((o) => o.id === r.id)));

      // 410 Gone disables the endpoint; nothing more is sent to it.
      rx.answer(() => ({ status: 410 }));
      await store.transaction((trx) => emitWebhookEvents(trx, [{ tenantId: tenant.id, type: 'message.delivered', data: { n: 1 } }, { tenantId: tenant.id, type: 'message.delivered', data: { n: 2 } }]));
      const sent = rx.received.length;
      await dispatch();
      // Both may have been in flight together; after the 410 nothing new is sent.
      assert.ok(rx.received.length > sent && rx.received.length <= sent + 2);
      const afterGone = rx.received.length;
      await store.transaction((trx) => emitWebhookEvents(trx, [{ tenantId: tenant.id, type: 'message.delivered', data: { n: 3 } }]));
      await dispatch();
      assert.equal(rx.received.length, afterGone);
      const gone = (await operator.request('GET', `/api/v1/webhooks/${hook.id}`)).json();
      assert.equal(gone.status, 'disabled');
      assert.match(gone.disabledReason, /410/);

      // Tenant scope, and every administrative write in the operation log.
      const stranger = await sessionFor(open, store, 'operator', other.id);
      assert.equal((await stranger.request('GET', `/api/v1/webhooks/${hook.id}`)).statusCode, 404);
      assert.equal((await stranger.request('POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, {})).statusCode, 404);
      const ops = (await store.db.selectFrom('operation_log').select('operation').where('object_type', '=', 'webhook').execute()).map((o) => o.operation).sort();
      assert.deepEqual(ops, ['webhook.create', 'webhook.create', 'webhook.delete', 'webhook.disable', 'webhook.replay', 'webhook.rotate_secret']);
      const patched = await operator.request('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: true, events: ['message.bounced'] });
      assert.equal(patched.json().status, 'enabled');
      assert.equal((await operator.request('PATCH', `/api/v1/webhooks/${hook.id}`, { events: ['nope'] })).statusCode, 400);
      assert.equal((await operator.request('DELETE', `/api/v1/webhooks/${hook.id}`)).statusCode, 204);
      assert.equal(await endpoints(), 0);
    } finally {
      await strict.close();
      await open.close();
      await rx.close();
    }
  });

  test('the retry schedule spans about three days with jitter, and Retry-After is capped at a day', () => {
    const total = RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    assert.ok(total > 60 * 3_600_000 && total < 80 * 3_600_000, `${total / 3_600_000} h`);
    assert.equal(retryDelay(1, null, () => 0), 4000);
    assert.equal(retryDelay(1, null, () => 1), 6000);
    assert.equal(retryDelay(RETRY_SCHEDULE_MS.length + 1, null), null);
    assert.equal(retryDelay(1, 7 * 86_400_000, () => 0.5), 86_400_000);
  });
});
