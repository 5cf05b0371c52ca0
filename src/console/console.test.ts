import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { CLIENT_ROUTES } from './client-routes.ts';
import { createConsoleRoutes } from './index.ts';

/** A stand-in build: the module serves whatever web/dist holds, so a small tree proves the rules. */
function fakeDist(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-dist-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.mkdirSync(path.join(dir, 'static'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div><script type="module" src="/assets/index-abc123.js"></script>');
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log("console");'.repeat(50));
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js.br'), 'brotli bytes');
  fs.writeFileSync(path.join(dir, 'static', 'preview.html'), '<!doctype html>');
  return dir;
}

async function appWith(distDir: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('application/problem+json').send({ status: 404 }));
  await createConsoleRoutes({ distDir })(app, {} as never);
  return app;
}

describe('console module', () => {
  let dist: string;
  let app: FastifyInstance;
  before(async () => {
    dist = fakeDist();
    app = await appWith(dist);
  });
  after(async () => {
    await app.close();
    fs.rmSync(dist, { recursive: true, force: true });
  });

  test('every client route of PRODUCT.md, and detail paths under them, answer the app with a strict policy and no caching', async () => {
    for (const url of [...CLIENT_ROUTES, '/tenants/tn_1', '/lists/tn_1/ls_2', '/delivery-log/messages/msg_1', '/dashboard?lang=en']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /<div id="root">/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('hashed assets are cached for a year and sent pre-compressed; other paths stay 404', async () => {
    const br = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'br' } });
    assert.equal(br.statusCode, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.body, 'brotli bytes');
    assert.match(String(br.headers['cache-control']), /max-age=31536000.*immutable/);
    const plain = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(plain.body, /console/);
    assert.equal((await app.inject({ url: '/assets/missing.js' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/not-a-screen' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/api/v1/nothing' })).statusCode, 404);
  });

  test('the preview frame runs only its own script and may be framed by the console alone', async () => {
    const res = await app.inject({ url: '/static/preview.html' });
    assert.equal(res.statusCode, 200);
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'self'/);
  });

  test('without a build, the console routes explain how to build it (503) and nothing else breaks', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-nodist-'));
    const bare = await appWith(empty);
    try {
      const res = await bare.inject({ url: '/dashboard' });
      assert.equal(res.statusCode, 503);
      assert.match(res.body, /npm run build:console/);
      assert.doesNotMatch(res.body, /<script/);
      assert.equal((await bare.inject({ url: '/assets/x.js' })).statusCode, 404);
    } finally {
      await bare.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
