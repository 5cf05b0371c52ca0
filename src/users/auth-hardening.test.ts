import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { generateSync } from 'otplib';
import type { Actor } from '../audit/log.ts';
import { testApp } from '../testing/http.ts';
import { startTestServer } from '../testing/server.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { createUser } from './service.ts';

const system: Actor = { operator: 'test', clientIp: '127.0.0.1', role: 'system' };
const PASSWORD = 'test-password-1';
/**
 * Codes for the time steps around a fixed moment: the step before, the current one and the
 * next (the three a ±30 s tolerance accepts). `steadyClock` first waits, if need be, until the
 * current step has a few seconds left, so a test's codes stay valid while it runs.
 */
let base = Math.floor(Date.now() / 1000);
const codeAt = (secret: string, offsetSteps = 0) => generateSync({ secret, epoch: base + offsetSteps * 30 });
async function steadyClock(): Promise<void> {
  const into = Date.now() % 30_000;
  if (into > 24_000) await new Promise((r) => setTimeout(r, 30_000 - into + 200));
  base = Math.floor(Date.now() / 1000);
}

/** A console client from one address, keeping its cookie and CSRF token. */
class Client {
  cookie = '';
  csrf = '';
  readonly app: FastifyInstance;
  readonly ip: string;
  constructor(app: FastifyInstance, ip: string) {
    this.app = app;
    this.ip = ip;
  }
  async login(username: string, password = PASSWORD): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: this.ip, payload: { username, password } });
    const set = res.headers['set-cookie'];
    if (set) this.cookie = String(Array.isArray(set) ? set[0] : set).split(';')[0]!;
    if (res.statusCode === 200) this.csrf = res.json().csrfToken;
    return res;
  }
  request(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object): Promise<LightMyRequestResponse> {
    return this.app.inject({ method, url, remoteAddress: this.ip, headers: { cookie: this.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': this.csrf }) }, ...(payload ? { payload } : {}) });
  }
}

describeEachEngine('console sign-in hardening', (get) => {
  let app: FastifyInstance;

  test('setup', async () => {
    const { store, dataDir } = get();
    app = await testApp(store, dataDir, { security: { loginLockoutFailures: 5, loginLockoutMinutes: 15, loginIpFailures: 12, sessionHours: 1, secureCookies: 'auto' } });
    for (const username of ['alice', 'bob', 'carol', 'dave']) await createUser(store, system, { username, password: PASSWORD, role: 'support' });
  });

  test('a TOTP code is accepted once: a replayed code opens no second session, even raced', async () => {
    const { store } = get();
    await steadyClock();
    const enrol = async (username: string, ip: string, step: number) => {
      const c = new Client(app, ip);
      assert.equal((await c.login(username)).statusCode, 200);
      const secret = (await c.request('POST', '/api/v1/auth/totp/enrol', { password: PASSWORD })).json().secret as string;
      assert.equal((await c.request('POST', '/api/v1/auth/totp/confirm', { code: codeAt(secret, step) })).statusCode, 204);
      return secret;
    };
    const secret = await enrol('alice', '10.0.0.1', 0);
    const sessions = async (username: string) => Number((await store.db.selectFrom('sessions').innerJoin('console_users', 'console_users.id', 'sessions.user_id').select((eb) => eb.fn.countAll().as('n')).where('username', '=', username).where('pending_totp', '=', 0).executeTakeFirstOrThrow()).n);
    const before = await sessions('alice');
    const code = codeAt(secret, 1);
    const first = new Client(app, '10.0.0.1');
    await first.login('alice');
    assert.equal((await first.request('POST', '/api/v1/auth/totp', { code })).statusCode, 200);
    const again = new Client(app, '10.0.0.1');
    assert.equal((await again.login('alice')).json().totpRequired, true);
    const replay = await again.request('POST', '/api/v1/auth/totp', { code });
    assert.equal(replay.statusCode, 401);
    assert.match(replay.json().detail, /used already/);
    assert.equal((await again.request('GET', '/api/v1/auth/me')).statusCode, 401);
    assert.equal((await again.request('POST', '/api/v1/auth/totp', { code: codeAt(secret, 0) })).statusCode, 401, 'an older code than the last one is refused too');
    assert.equal(await sessions('alice'), before + 1);
    // Two sign-ins racing with one fresh code: exactly one wins.
    await createUser(store, system, { username: 'erin', password: PASSWORD, role: 'support' });
    const erinSecret = await enrol('erin', '10.0.0.5', -1);
    const racers = [new Client(app, '10.0.0.5'), new Client(app, '10.0.0.5')];
    for (const r of racers) await r.login('erin');
    const erinBefore = await sessions('erin');
    const results = await Promise.all(racers.map((r) => r.request('POST', '/api/v1/auth/totp', { code: codeAt(erinSecret, 0) })));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 401]);
    assert.equal(await sessions('erin'), erinBefore + 1);
  });

  test('switching TOTP off or re-enrolling from a session needs the password and a current code', async () => {
    await steadyClock();
    const bob = new Client(app, '10.0.0.2');
    await bob.login('bob');
    assert.equal((await bob.request('POST', '/api/v1/auth/totp/enrol', { password: 'wrong password' })).statusCode, 400);
    const secret = (await bob.request('POST', '/api/v1/auth/totp/enrol', { password: PASSWORD })).json().secret as string;
    assert.equal((await bob.request('POST', '/api/v1/auth/totp/confirm', { code: codeAt(secret, -1) })).statusCode, 204);
    const totpAsked = async () => (await new Client(app, '10.0.0.2').login('bob')).json().totpRequired as boolean;
    assert.equal(await totpAsked(), true);
    // The session alone (stolen, say) can neither move TOTP to another phone nor switch it off.
    const noCode = await bob.request('POST', '/api/v1/auth/totp/enrol', { password: PASSWORD });
    assert.equal(noCode.statusCode, 400);
    assert.ok(noCode.json().errors.some((e: { field: string }) => e.field === '/body/code'));
    assert.equal((await bob.request('DELETE', '/api/v1/auth/totp', { password: PASSWORD })).statusCode, 400);
    assert.equal((await bob.request('DELETE', '/api/v1/auth/totp', { password: 'not it at all', code: codeAt(secret, 0) })).statusCode, 400);
    assert.equal(await totpAsked(), true, 'TOTP is still on');
    // A restarted enrolment leaves the old secret in force until the new one is confirmed.
    const reenrol = await bob.request('POST', '/api/v1/auth/totp/enrol', { password: PASSWORD, code: codeAt(secret, 0) });
    assert.equal(reenrol.statusCode, 200, reenrol.body);
    assert.equal(await totpAsked(), true, 'enrolment did not switch TOTP off');
    const off = await bob.request('DELETE', '/api/v1/auth/totp', { password: PASSWORD, code: codeAt(secret, 1) });
    assert.equal(off.statusCode, 204, off.body);
    assert.equal(await totpAsked(), false);
  });

  test('unknown and real user names get the same answers, the same lock, in similar time', async () => {
    const attempt = (username: string, ip: string) => new Client(app, ip).login(username, 'wrong password');
    const real = await attempt('carol', '10.0.1.1');
    const ghost = await attempt('nobody-here', '10.0.1.2');
    assert.equal(real.statusCode, 401);
    assert.deepEqual([ghost.statusCode, ghost.json().detail], [real.statusCode, real.json().detail]);
    for (let i = 0; i < 4; i++) {
      await attempt('carol', '10.0.1.1');
      await attempt('nobody-here', '10.0.1.2');
    }
    const realLocked = await new Client(app, '10.0.1.1').login('carol', PASSWORD);
    const ghostLocked = await attempt('nobody-here', '10.0.1.2');
    assert.equal(realLocked.statusCode, 423);
    assert.deepEqual([ghostLocked.statusCode, ghostLocked.json().detail], [realLocked.statusCode, realLocked.json().detail]);
    assert.ok(Number(ghostLocked.headers['retry-after']) > 0 && Number(realLocked.headers['retry-after']) > 0);
    // Time: both pay one argon2 verification (before, an unknown name was far cheaper or far
    // dearer). Interleaved tries from fresh addresses, so load on a shared machine falls on
    // both alike; the medians within a factor of three (a skipped verification is ten times).
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 9; i++) {
      for (const [name, times, base] of [['dave', known, 10], ['no-such-user', unknown, 40]] as const) {
        const t0 = performance.now();
        await attempt(name, `10.0.2.${base + i}`);
        times.push(performance.now() - t0);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[4]!;
    const [k, u] = [median(known), median(unknown)];
    assert.ok(u > k / 3 && u < k * 3, `known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms`);
  });

  test('a lock from one address is not a denial of service against the user elsewhere; each address is limited', async () => {
    const { store } = get();
    const attacker = '198.51.100.7';
    for (let i = 0; i < 5; i++) assert.equal((await new Client(app, attacker).login('dave', `guess ${i}`)).statusCode, 401);
    assert.equal((await new Client(app, attacker).login('dave', PASSWORD)).statusCode, 423, 'the attacker\'s address is locked for dave');
    assert.equal((await new Client(app, '10.0.3.1').login('dave')).statusCode, 200, 'dave signs in from his desk');
    // The attacker's address, spraying other names, hits its own limit (12 here) and waits.
    let last: LightMyRequestResponse | null = null;
    for (let i = 0; i < 8; i++) last = await new Client(app, attacker).login(`name${i}`, 'x');
    assert.equal(last!.statusCode, 429);
    assert.ok(Number(last!.headers['retry-after']) > 0);
    assert.equal((await new Client(app, '10.0.3.2').login('carol')).statusCode, 200, 'other addresses are unaffected');
    const ops = (await store.db.selectFrom('operation_log').select('operation').where('operation', 'in', ['user.locked', 'user.login_locked', 'user.login_failed']).execute()).map((r) => r.operation);
    for (const op of ['user.locked', 'user.login_locked', 'user.login_failed']) assert.ok(ops.includes(op), op);
  });

  test('counts whose window and lock are over are pruned; current locks stay', async () => {
    const { store } = get();
    const { recordFailure } = await import('./throttle.ts');
    const policy = { failures: 5, lockMinutes: 15, ipFailures: 30 };
    const old = Date.now() - 60 * 60_000;
    await store.db.insertInto('login_throttle').values(Array.from({ length: 50 }, (_, i) => ({ key: `u:sprayed${i}|203.0.113.9`, failures: 1, window_started_at: old, locked_until: null, updated_at: old }))).execute();
    await store.db.insertInto('login_throttle').values({ key: 'u:held|203.0.113.9', failures: 0, window_started_at: old, locked_until: Date.now() + 60_000, updated_at: old }).execute();
    for (let i = 0; i < 200; i++) await store.transaction((trx) => recordFailure(trx, 'pruner', `203.0.113.${i % 200}`, policy));
    const left = (await store.db.selectFrom('login_throttle').select('key').where('key', 'like', 'u:sprayed%').execute()).length;
    assert.equal(left, 0);
    assert.ok(await store.db.selectFrom('login_throttle').select('key').where('key', '=', 'u:held|203.0.113.9').executeTakeFirst(), 'a lock still running stays');
  });

  test('the session cookie is Secure for an https public URL or a TLS request, as configured', async () => {
    const { store, dataDir } = get();
    const cookieOf = async (overrides: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const a = await testApp(store, dataDir, overrides);
      const res = await a.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.0.4.1', headers, payload: { username: 'alice', password: PASSWORD } });
      await a.close();
      return String(res.headers['set-cookie']);
    };
    const http = { host: '127.0.0.1', port: 0, trustProxy: false, bodyLimitBytes: 1_000_000 };
    assert.match(await cookieOf({ http: { ...http, publicUrl: 'https://mail.bank.example' } }), /; Secure/);
    assert.doesNotMatch(await cookieOf({ http: { ...http, publicUrl: 'http://localhost:8080' } }), /Secure/);
    assert.doesNotMatch(await cookieOf({ http: { ...http, publicUrl: 'http://localhost:8080' } }, { 'x-forwarded-proto': 'https' }), /Secure/, 'an untrusted proxy header is ignored');
    assert.match(await cookieOf({ http: { ...http, publicUrl: 'http://localhost:8080', trustProxy: true } }, { 'x-forwarded-proto': 'https' }), /; Secure/);
    assert.doesNotMatch(await cookieOf({ http: { ...http, publicUrl: 'https://mail.bank.example' }, security: { secureCookies: false } }), /Secure/);
    await app.close();
  });
});

describeEachEngine('the first administrator', (get) => {
  test('the one-time password must be changed at first sign-in; until then the session can do nothing else', async () => {
    const srv = await startTestServer(get());
    try {
      const announced = srv.announced.join('');
      const password = /one-time password\s+(\S+)/.exec(announced)![1]!;
      assert.ok(!srv.logText().includes(password), 'the one-time password is not in the logs');
      const login = await srv.fetch('/api/v1/auth/login', { method: 'POST', json: { username: 'admin', password } });
      const body = (await login.json()) as { csrfToken: string; mustChangePassword: boolean };
      assert.equal(body.mustChangePassword, true);
      const headers = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0]!, 'x-csrf-token': body.csrfToken };
      const blocked = await srv.fetch('/api/v1/tenants', { headers });
      assert.equal(blocked.status, 403);
      assert.match(((await blocked.json()) as { detail: string }).detail, /change your one-time password first/);
      assert.equal((await srv.fetch('/api/v1/users', { method: 'POST', headers, json: { username: 'eve', password: 'long enough 1', role: 'administrator' } })).status, 403);
      assert.equal((await srv.fetch('/api/v1/auth/totp/enrol', { method: 'POST', headers, json: { password } })).status, 403);
      assert.equal((await srv.fetch('/api/v1/auth/me', { headers })).status, 200);
      assert.equal((await srv.fetch('/api/v1/auth/password', { method: 'POST', headers, json: { currentPassword: password, newPassword: password } })).status, 400, 'the same password again is refused');
      assert.equal((await srv.fetch('/api/v1/auth/password', { method: 'POST', headers, json: { currentPassword: password, newPassword: 'a new admin password' } })).status, 204);
      assert.equal((await srv.fetch('/api/v1/tenants', { headers })).status, 401, 'the one-time session ended with the change');
      const again = await srv.fetch('/api/v1/auth/login', { method: 'POST', json: { username: 'admin', password: 'a new admin password' } });
      const second = (await again.json()) as { csrfToken: string; mustChangePassword: boolean };
      assert.equal(second.mustChangePassword, false);
      assert.equal((await srv.fetch('/api/v1/tenants', { headers: { cookie: (again.headers.get('set-cookie') ?? '').split(';')[0]! } })).status, 200);
    } finally {
      await srv.stop();
    }
  });
});
