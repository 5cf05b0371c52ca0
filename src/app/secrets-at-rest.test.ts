import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generateSecret, generateSync } from 'otplib';
import type { Actor } from '../audit/log.ts';
import { DKIM_PRIVATE_KEY, PLATFORM_SECRET, unseal } from '../store/sealed-fields.ts';
import { generateSecretKey, SecretBox } from '../core/secret-box.ts';
import { activeDkimKey, createDomain } from '../domains/service.ts';
import { createTenant } from '../tenants/service.ts';
import { freePort, runCli, startServe } from '../testing/cli.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { createUser } from '../users/service.ts';

const admin: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'administrator' };
const mode = (p: string) => fs.statSync(p).mode & 0o777;

/**
 * Secrets at rest, against `fanout serve` in its own process: what an earlier version stored
 * in plain text is sealed at start, the data folder and its files are private, the key rotates
 * while the server runs, and a node with the wrong key refuses to start, saying why.
 */
describeEachEngine('secrets at rest', (get) => {
  test('plain-text secrets are sealed at start, files are private, rotation keeps the server working', async () => {
    const t = get();
    const { store, dataDir, databaseUrl } = t;
    const env: Record<string, string> = { FANOUT_DATA_DIR: dataDir, ...(databaseUrl ? { FANOUT_DATABASE_URL: databaseUrl } : {}) };

    // What an earlier version left: the platform secret, a DKIM key and a TOTP secret in clear.
    const tenant = await createTenant(store, admin, { name: 'Sealed' });
    const domain = await createDomain(store, admin, { tenantId: tenant.id, domain: 'sealed.example.com' });
    const pem = (await activeDkimKey(store, domain.id))!.privateKeyPem;
    const keyRow = await store.db.selectFrom('dkim_keys').select('id').where('domain_id', '=', domain.id).executeTakeFirstOrThrow();
    await store.db.updateTable('dkim_keys').set({ private_key_pem: pem }).where('id', '=', keyRow.id).execute();
    const platform = Buffer.alloc(32, 7).toString('base64');
    await store.db.insertInto('settings').values({ key: 'platform_secret', value: platform }).onConflict((oc) => oc.column('key').doUpdateSet({ value: platform })).execute();
    const totp = generateSecret();
    const user = await createUser(store, admin, { username: 'sealed-admin', password: 'test-password-1', role: 'administrator' });
    await store.db.updateTable('console_users').set({ totp_secret: totp, totp_enabled: 1 }).where('id', '=', user.id).execute();
    // ... and a data folder readable by others.
    fs.chmodSync(dataDir, 0o755);
    fs.mkdirSync(path.join(dataDir, 'exports'), { mode: 0o755 });
    fs.writeFileSync(path.join(dataDir, 'exports', 'report.csv'), 'a,b\n', { mode: 0o644 });
    if (!databaseUrl) fs.chmodSync(path.join(dataDir, 'fanout.db'), 0o644);

    const [http, smtp, bounce] = [await freePort(), await freePort(), await freePort()];
    const serveEnv = { ...env, FANOUT_HTTP_PORT: String(http), FANOUT_SMTP_PORT: String(smtp), FANOUT_BOUNCE_PORT: String(bounce), FANOUT_ROLES: 'http,smtp,bounce', FANOUT_LOG_LEVEL: 'info' };
    let server = startServe(serveEnv);
    try {
      await server.waitFor(/Fanout started/);
      const raw = async () => ({
        dkim: (await store.db.selectFrom('dkim_keys').select('private_key_pem').where('id', '=', keyRow.id).executeTakeFirstOrThrow()).private_key_pem,
        platform: (await store.db.selectFrom('settings').select('value').where('key', '=', 'platform_secret').executeTakeFirstOrThrow()).value,
        totp: (await store.db.selectFrom('console_users').select('totp_secret').where('id', '=', user.id).executeTakeFirstOrThrow()).totp_secret!,
      });
      const first = await raw();
      for (const v of Object.values(first)) assert.match(v, /^enc:v1:[0-9a-f]{12}:/);
      assert.doesNotMatch(first.dkim, /PRIVATE KEY/);
      // Sealed, the same secrets: tokens signed before still verify, the key still signs.
      assert.equal(unseal(store, PLATFORM_SECRET, 'platform_secret', first.platform), platform);
      assert.equal(unseal(store, DKIM_PRIVATE_KEY, keyRow.id, first.dkim), pem);

      // Files: the folder 0700, the store's files, the key file and the TLS key 0600.
      assert.equal(mode(dataDir), 0o700);
      assert.equal(mode(path.join(dataDir, 'secret.key')), 0o600);
      assert.equal(mode(path.join(dataDir, 'tls')), 0o700);
      assert.equal(mode(path.join(dataDir, 'tls', 'submission-key.pem')), 0o600);
      assert.equal(mode(path.join(dataDir, 'exports')), 0o700);
      assert.equal(mode(path.join(dataDir, 'exports', 'report.csv')), 0o600);
      if (!databaseUrl) {
        for (const f of ['fanout.db', 'fanout.db-wal', 'fanout.db-shm']) assert.equal(mode(path.join(dataDir, f)), 0o600, f);
        // The old plain-text rows are gone from the database files too, not only from the rows.
        const bytes = Buffer.concat(['fanout.db', 'fanout.db-wal'].map((f) => fs.readFileSync(path.join(dataDir, f))));
        const pemBody = pem.split('\n')[5]!;
        assert.ok(!bytes.includes(pemBody), 'no piece of the DKIM key in the database files');
        assert.ok(!bytes.includes(totp), 'no TOTP secret in the database files');
      }

      // The running server signs in with the sealed TOTP secret.
      const signIn = async (step: number) => {
        const login = await fetch(`http://127.0.0.1:${http}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'sealed-admin', password: 'test-password-1' }) });
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
        const { csrfToken } = (await login.json()) as { csrfToken: string };
        const code = generateSync({ secret: totp, epoch: Math.floor(Date.now() / 1000) + step * 30 });
        return fetch(`http://127.0.0.1:${http}/api/v1/auth/totp`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken }, body: JSON.stringify({ code }) });
      };
      assert.equal((await signIn(0)).status, 200);

      // Rotation while the server runs: a new key first in the file, every secret re-sealed.
      const before = SecretBox.parse(first.platform)!.keyId;
      const rotated = runCli(['secrets', 'rotate-key'], env);
      assert.equal(rotated.status, 0, rotated.stderr);
      assert.match(rotated.stdout, /3 secret\(s\) re-sealed/);
      const keyLines = () => fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
      assert.equal(keyLines().length, 2);
      const second = await raw();
      for (const v of Object.values(second)) assert.notEqual(SecretBox.parse(v)!.keyId, before);
      await new Promise((r) => setTimeout(r, 2_100));
      assert.equal((await signIn(1)).status, 200, 'the running server opens what the new key sealed');
      const drop = runCli(['secrets', 'rotate-key', '--no-new-key', '--drop-old'], env);
      assert.equal(drop.status, 0, drop.stderr);
      assert.equal(keyLines().length, 1);
      const status = JSON.parse(runCli(['secrets', 'status'], env).stdout) as { plaintext: number; sealedByKey: Record<string, number>; current: string };
      assert.equal(status.plaintext, 0);
      assert.deepEqual(Object.keys(status.sealedByKey), [status.current]);
      assert.equal(await server.stop(), 0);

      // A node with another key refuses to start and names the key it lacks.
      const wrong = startServe({ ...serveEnv, FANOUT_SECRET_KEY: generateSecretKey() });
      await assert.rejects(wrong.waitFor(/Fanout started/, 20_000), new RegExp(`sealed with key ${status.current}, which is not in FANOUT_SECRET_KEY`));
      assert.notEqual(await wrong.stop(), 0);
      server = startServe(serveEnv);
      await server.waitFor(/Fanout started/);
    } finally {
      await server.stop();
    }
  });
});
