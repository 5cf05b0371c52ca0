import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generateSync } from 'otplib';
import { loadAppConfig, migrations } from '../../src/app/capabilities.ts';
import { startServer } from '../../src/app/server.ts';
import type { RunningServer } from '../../src/app/server.ts';
import { createLogger } from '../../src/app/logger.ts';
import { Store } from '../../src/store/store.ts';
import { bootstrapAdministrator, createUser } from '../../src/users/service.ts';
import { CONSOLE_DIST } from '../../src/console/index.ts';
import { SmtpSink } from '../../src/testing/smtp-sink.ts';

export type Lang = 'zh-CN' | 'en';
export const LANGS: Lang[] = ['zh-CN', 'en'];
export const PASSWORD = 'console-test-pass-1';
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');

/** The flags Debian's Chromium needs here: no sandbox as root, no network of its own. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export interface Tab {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and failed requests seen so far. */
  errors: string[];
}

/**
 * A real Fanout (every role, embedded store, fresh data folder) whose deliveries go to an SMTP
 * sink, the built console it serves, and Debian's Chromium driven by playwright-core.
 */
export class ConsoleHarness {
  server!: RunningServer;
  sink!: SmtpSink;
  browser!: Browser;
  baseUrl = '';
  smtpPort = 0;
  dataDir = '';
  /** The first administrator, made as `fanout serve` makes it on an empty store: a one-time password to change at first sign-in. */
  firstAdmin!: { username: string; password: string };

  static async start(users: { username: string; role: 'administrator' | 'operator' | 'auditor' | 'support'; tenantId?: string }[]): Promise<ConsoleHarness> {
    const h = new ConsoleHarness();
    if (!fs.existsSync(path.join(CONSOLE_DIST, 'index.html'))) {
      const built = spawnSync(process.execPath, ['scripts/build-console.js'], { stdio: 'inherit', cwd: path.resolve(import.meta.dirname, '../..') });
      if (built.status !== 0) throw new Error('the console could not be built');
    }
    h.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-console-'));
    // Users first, so the server's first start finds them and prints no one-time password.
    const store = Store.open({ dataDir: h.dataDir, databaseUrl: null });
    await store.migrate(migrations);
    h.firstAdmin = (await bootstrapAdministrator(store, { operator: 'system', clientIp: '127.0.0.1', role: 'system' }))!;
    for (const u of users) await createUser(store, { operator: 'test', clientIp: '127.0.0.1', role: 'system' }, { ...u, password: PASSWORD });
    await store.close();

    h.sink = await SmtpSink.start({ rules: { 'nobody': 'unknown-550' } });
    h.smtpPort = await freePort();
    const config = loadAppConfig({
      env: {}, file: null, overrides: {
        dataDir: h.dataDir, logLevel: 'silent',
        http: { host: '127.0.0.1', port: 0 }, smtp: { host: '127.0.0.1', port: h.smtpPort, authFailureDelayMs: 0 }, bounce: { host: '127.0.0.1', port: 0 },
        delivery: { routes: { '*': `127.0.0.1:${h.sink.port}` } },
      },
    });
    h.server = await startServer(config, createLogger(config));
    h.baseUrl = `http://127.0.0.1:${(h.server.http!.server.address() as { port: number }).port}`;
    h.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    return h;
  }

  /** A fresh browser profile (own cookies) at 1280×800 in the bank's time zone. */
  async tab(lang: Lang = 'zh-CN'): Promise<Tab> {
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: lang, timezoneId: 'Asia/Shanghai', acceptDownloads: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      // The browser logs every 4xx answer of fetch as an error; those answers are part of the
      // flows under test (signed-out probe, wrong password, refused writes, missing APIs).
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    page.on('response', (r) => {
      // 4xx answers are part of the flows under test (wrong password, refused writes, missing APIs).
      if (r.status() >= 500) errors.push(`http ${r.status()}: ${r.url()}`);
    });
    return { page, context, errors };
  }

  url(p: string, lang?: Lang): string {
    return `${this.baseUrl}${p}${lang ? `${p.includes('?') ? '&' : '?'}lang=${lang}` : ''}`;
  }

  /** Signs in through the form; with a TOTP secret, answers the code step too. */
  async login(tab: Tab, username: string, options: { lang?: Lang; totpSecret?: string; password?: string } = {}): Promise<void> {
    const { page } = tab;
    await page.goto(this.url('/login', options.lang));
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(options.password ?? PASSWORD);
    await page.locator('button[type=submit]').click();
    if (options.totpSecret) {
      await page.locator('input[name=totp]').fill(await freshCode(options.totpSecret));
      await page.locator('button[type=submit]').click();
    }
    await page.getByTestId('dashboard-tiles').waitFor();
  }

  async shot(page: Page, name: string, lang: Lang): Promise<void> {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    // Let charts and fonts settle; screenshots show what a person would see.
    await page.waitForLoadState('networkidle');
    await page.evaluate('document.fonts.ready');
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.${lang}.png`), fullPage: true });
  }

  /** A write as the signed-in user, straight to the API with the session's CSRF token. */
  async apiAs(page: Page, method: string, p: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    return page.evaluate(async ({ method, p, body }) => {
      const me = await (await fetch('/api/v1/auth/me')).json() as { csrfToken: string };
      const payload = body === undefined && method === 'POST' ? {} : body;
      const headers: Record<string, string> = { 'x-csrf-token': me.csrfToken };
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`/api/v1${p}`, { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) });
      return { status: res.status, body: await res.json().catch(() => null) };
    }, { method, p, body });
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => {});
    await this.server?.stop().catch(() => {});
    await this.sink?.close().catch(() => {});
    if (this.dataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const usedSteps = new Map<string, number>();

/**
 * A current code of `secret` from a 30-second step no earlier call has used: the API accepts each
 * step's code once (sign-in, confirmation, re-authentication), so a second sign-in within the
 * same step waits for the next one.
 */
export async function freshCode(secret: string): Promise<string> {
  const last = usedSteps.get(secret) ?? -1;
  let step = Math.floor(Date.now() / 30_000);
  if (step <= last) {
    await new Promise((r) => setTimeout(r, (last + 1) * 30_000 - Date.now() + 200));
    step = Math.floor(Date.now() / 30_000);
  }
  usedSteps.set(secret, step);
  return generateSync({ secret, epoch: step * 30 });
}

export async function until(check: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A port nobody listens on now (the submission server needs a known port for the SMTP client). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
