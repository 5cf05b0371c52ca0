import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApiKey } from '../accounts/apikeys.ts';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { createTenant } from '../tenants/service.ts';
import { startTestServer } from '../testing/server.ts';
import { describeEachEngine } from '../testing/stores.ts';

const admin: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'administrator' };

describeEachEngine('500s are logged with the request id their problem carries', (get) => {
  test('the app\'s pino logger gets every 500, with method, route and request id, and never a credential', async () => {
    const t = get();
    const srv = await startTestServer(t);
    const tenant = await createTenant(t.store, admin, { name: 'Logged' });
    const account = await createAccount(t.store, admin, { tenantId: tenant.id, name: 'logged-api', password: 'long enough' });
    const { key } = await createApiKey(t.store, admin, { tenantId: tenant.id, accountId: account.id });
    try {
      const ok = await srv.fetch('/api/v1/accounts', { headers: { authorization: `Bearer ${key}` } });
      assert.equal(ok.status, 200);
      assert.equal(srv.logs.filter((l) => l.msg === 'request failed').length, 0, 'no request lines, no failures');

      // The store goes away under the running server: every request needing it fails with 500.
      await srv.server.store.close();
      const failures = [
        await srv.fetch('/api/v1/auth/login', { method: 'POST', json: { username: 'admin', password: 'hunter2-very-secret' } }),
        await srv.fetch('/api/v1/accounts?token=query-secret-token', { headers: { authorization: `Bearer ${key}`, cookie: 'fanout_session=cookie-secret-value' } }),
      ];
      for (const res of failures) {
        assert.equal(res.status, 500);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        const problem = (await res.json()) as { requestId: string; detail: string; instance: string };
        assert.match(problem.requestId, /^req_[0-9a-z]{26}$/);
        assert.match(problem.detail, /logged with the request id/);
        assert.doesNotMatch(problem.instance, /\?/, 'no query string echoed');
        // Fastify logs through the application's logger (startServer's): the line is in its output.
        const line = srv.logs.find((l) => l.reqId === problem.requestId);
        assert.ok(line, `a log line for ${problem.requestId}`);
        assert.equal(line.level, 50);
        assert.equal(line.msg, 'request failed');
        assert.ok((line.err as { message?: string }).message);
        assert.match(String(line.route), /^\/api\/v1\//);
      }
      const text = srv.logText();
      for (const secret of ['hunter2-very-secret', key, key.split('_').slice(2).join('_'), 'cookie-secret-value', 'query-secret-token']) {
        assert.ok(!text.includes(secret), `${secret.slice(0, 8)}… is not in the log`);
      }
      // The node still answers what needs no store.
      assert.equal((await srv.fetch('/healthz')).status, 200);
    } finally {
      await srv.stop();
    }
  });
});
