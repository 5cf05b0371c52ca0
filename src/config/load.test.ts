import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadAppConfig as loadConfig } from '../app/capabilities.ts';
import { ConfigError, parseRoutes, printableConfig } from './load.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-config-'));

test('defaults match the documented interface', () => {
  const c = loadConfig({ env: {}, file: null });
  assert.equal(c.http.port, 8080);
  assert.equal(c.smtp.port, 2525);
  assert.equal(c.bounce.port, 2526);
  assert.equal(c.dataDir, path.resolve('./data'));
  assert.equal(c.databaseUrl, null);
  assert.deepEqual(c.delivery.routes, {});
});

test('environment overrides the file, and FANOUT_ROUTES parses', () => {
  const dir = tmp();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ http: { port: 9000 }, smtp: { port: 2600 } }));
  const c = loadConfig({ file, env: { FANOUT_HTTP_PORT: '9100', FANOUT_ROUTES: '*=127.0.0.1:2600,bank.test=relay.bank.test:25' } });
  assert.equal(c.http.port, 9100);
  assert.equal(c.smtp.port, 2600);
  assert.deepEqual(c.delivery.routes, { '*': '127.0.0.1:2600', 'bank.test': 'relay.bank.test:25' });
});

test('unknown keys and wrong types are rejected with their path', () => {
  const dir = tmp();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ http: { prot: 1 } }));
  assert.throws(() => loadConfig({ file, env: {} }), (e: unknown) => e instanceof ConfigError && /\/http/.test(e.message));
  fs.writeFileSync(file, JSON.stringify({ smtp: { port: 'x' } }));
  assert.throws(() => loadConfig({ file, env: {} }), /\/smtp\/port/);
  assert.throws(() => loadConfig({ file: null, env: { FANOUT_HTTP_PORT: 'eighty' } }), /FANOUT_HTTP_PORT must be a whole number/);
});

test('bad routes are explained', () => {
  assert.throws(() => parseRoutes('nohost'), /not domain=host:port/);
  assert.throws(() => parseRoutes('a.test=bad host:1'), /not host:port/);
});

test('printed configuration masks the database password', () => {
  const c = loadConfig({ file: null, env: { FANOUT_DATABASE_URL: 'postgres://u:secret@db:5432/fanout' } });
  assert.doesNotMatch(JSON.stringify(printableConfig(c)), /secret/);
});

test('the domains section feeds the DNS records every sending domain must publish', async () => {
  const { recordOptionsFromConfig } = await import('../domains/config.ts');
  const dir = tmp();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ delivery: { heloName: 'mta1.bank.example' }, domains: { bounceHost: 'bounce.bank.example', dmarcRua: 'dmarc@bank.example' } }));
  const opts = recordOptionsFromConfig(loadConfig({ file, env: {} }));
  assert.equal(opts.mxHost, 'bounce.bank.example');
  assert.equal(opts.dmarcRua, 'dmarc@bank.example');
  assert.equal(recordOptionsFromConfig(loadConfig({ file: null, env: {} })).mxHost, 'fanout.local');
});
