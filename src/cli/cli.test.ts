import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authenticateApiKey } from '../accounts/apikeys.ts';
import { authenticateSmtp } from '../accounts/service.ts';
import { freePort, runCli, startServe } from '../testing/cli.ts';
import { describeEachEngine } from '../testing/stores.ts';

describeEachEngine('fanout command line', (get) => {
  const env = () => {
    const { dataDir, databaseUrl } = get();
    return { FANOUT_DATA_DIR: dataDir, ...(databaseUrl ? { FANOUT_DATABASE_URL: databaseUrl } : {}) };
  };

  test('tenants, accounts and API keys created by the CLI show in the store and work', async () => {
    const { store } = get();
    const t = runCli(['tenants', 'create', '--name', 'Retail Bank'], env());
    assert.equal(t.status, 0, t.stderr);
    const tenant = JSON.parse(t.stdout);
    assert.equal(tenant.name, 'Retail Bank');
    const a = runCli(['accounts', 'create', '--tenant', 'Retail Bank', '--name', 'estatements', '--password', 'Pa55word!x', '--quota', '500', '--allow-ip', '10.9.0.0/16'], env());
    assert.equal(a.status, 0, a.stderr);
    assert.deepEqual(JSON.parse(a.stdout).allowIps, ['10.9.0.0/16']);
    assert.equal((await authenticateSmtp(store, 'estatements', 'Pa55word!x'))?.tenantId, tenant.id);
    const k = runCli(['apikeys', 'create', '--tenant', tenant.id, '--account', 'estatements'], env());
    assert.equal(k.status, 0, k.stderr);
    const key = k.stdout.trim().split('\n').at(-1)!;
    assert.equal((await authenticateApiKey(store.db, key))?.tenantId, tenant.id);
    const list = runCli(['tenants', 'list', '--json'], env());
    const listed = list.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(listed.map((x: { remaining: number }) => x.remaining), [500]);
  });

  test('bad arguments: a clear message, a non-zero exit, nothing changed', async () => {
    const { store } = get();
    const before = await store.db.selectFrom('sending_accounts').select('id').execute();
    const cases: [string[], RegExp][] = [
      [['accounts', 'create', '--tenant', 'No Such Bank', '--name', 'x', '--password', 'longenough'], /tenant "No Such Bank" not found/],
      [['accounts', 'create', '--tenant', 'Retail Bank', '--name', 'bad name', '--password', 'longenough'], /name may contain only/],
      [['accounts', 'create', '--tenant', 'Retail Bank', '--name', 'q', '--password', 'longenough', '--quota', 'lots'], /expected a whole number/],
      [['accounts', 'create', '--tenant', 'Retail Bank', '--name', 'estatements', '--password', 'longenough'], /already exists/],
      [['tenants', 'create'], /required option '--name/],
      [['accounts', 'create', '--tenant', 'Retail Bank', '--name', 'c', '--password', 'longenough', '--allow-ip', '300.1.1.1'], /not an IP address/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args, env());
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message);
    }
    assert.equal((await store.db.selectFrom('sending_accounts').select('id').execute()).length, before.length);
  });

  test('audit verify passes, then names the entry an intruder altered', async () => {
    const { store } = get();
    const ok = runCli(['audit', 'verify'], env());
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /intact: \d+ entries/);
    const second = (await store.db.selectFrom('operation_log').select('id').orderBy('id').execute())[1]!.id;
    await store.db.updateTable('operation_log').set({ operator: 'someone-else' }).where('id', '=', second).execute();
    const broken = runCli(['audit', 'verify'], env());
    assert.equal(broken.status, 1);
    assert.match(broken.stdout, new RegExp(`BROKEN at entry ${second}\\b`));
  });

  test('config prints the effective configuration with environment overrides', () => {
    const r = runCli(['config'], { ...env(), FANOUT_SMTP_PORT: '2999', FANOUT_ROUTES: '*=127.0.0.1:2600' });
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout);
    assert.equal(c.smtp.port, 2999);
    assert.deepEqual(c.delivery.routes, { '*': '127.0.0.1:2600' });
    if (c.databaseUrl) assert.match(c.databaseUrl, /^postgres/);
  });

  test('serve: first start prints a one-time administrator password that logs in; SIGTERM stops cleanly', async () => {
    const port = await freePort();
    const server = startServe({ ...env(), FANOUT_HTTP_PORT: String(port), FANOUT_ROLES: 'http', FANOUT_LOG_LEVEL: 'info' });
    try {
      const [, password] = await server.waitFor(/one-time password\s+(\S+)/);
      await server.waitFor(/Fanout started/);
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
      assert.equal(res.status, 200);
      assert.doesNotMatch(server.output().split('Log in and change it.')[1] ?? '', new RegExp(password!));
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
    // A second start does not make another administrator.
    const again = startServe({ ...env(), FANOUT_HTTP_PORT: String(port), FANOUT_ROLES: 'http' });
    try {
      await again.waitFor(/Fanout started/);
      assert.doesNotMatch(again.output(), /one-time password/);
    } finally {
      await again.stop();
    }
  });
});
