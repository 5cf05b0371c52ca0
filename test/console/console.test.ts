import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTransport } from 'nodemailer';
import { ConsoleHarness, LANGS, PASSWORD, until } from './harness.ts';
import type { Lang, Tab } from './harness.ts';

// The console in a real browser against a real server. Each test builds on what the ones
// before it made (one tenant, domain, account, list, template and campaign), as an operator would.
describe('web console in Chromium', () => {
  let h: ConsoleHarness;
  let admin: Tab;
  const state: { tenantId?: string; accountId?: string; domainId?: string; apiKey?: string; totpSecret?: string; listPath?: string; campaignPath?: string } = {};
  const tenantName = '信用卡中心';
  const accountName = 'cards';

  before(async () => {
    h = await ConsoleHarness.start([
      { username: 'alice', role: 'administrator' },
      { username: 'audrey', role: 'auditor' },
      { username: 'lockme', role: 'support' },
    ]);
    admin = await h.tab('zh-CN');
  });
  after(async () => {
    await h?.stop();
  });

  test('sign-in: wrong password, lock-out message, TOTP enrolment with a QR code, then sign-in with a code', async () => {
    const { page } = admin;
    await page.goto(h.url('/login', 'en'));
    await page.locator('input[name=username]').fill('alice');
    await page.locator('input[name=password]').fill('not the password');
    await page.locator('button[type=submit]').click();
    await page.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor();

    // Five failures lock an account; the form says so, and for how long.
    const other = await h.tab('zh-CN');
    for (let i = 0; i < 6; i++) {
      await other.page.goto(h.url('/login', 'zh-CN'));
      await other.page.locator('input[name=username]').fill('lockme');
      await other.page.locator('input[name=password]').fill(`wrong-${i}`);
      await other.page.locator('button[type=submit]').click();
      await other.page.getByRole('alert').waitFor();
    }
    await other.page.getByRole('alert').filter({ hasText: '帐号已被锁定' }).waitFor();
    await other.context.close();

    await h.login(admin, 'alice', { lang: 'zh-CN' });
    await page.goto(h.url('/profile'));
    await page.getByRole('button', { name: '开启双因素登录' }).click();
    await page.getByRole('img', { name: '身份验证器二维码' }).waitFor();
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    const { generateSync } = await import('otplib');
    await page.locator('input[name=code]').fill(generateSync({ secret }));
    await page.getByRole('button', { name: '确认' }).click();
    await page.getByText('双因素登录已开启。').first().waitFor();
    state.totpSecret = secret;

    await page.getByRole('button', { name: '退出登录' }).click();
    await page.locator('input[name=password]').waitFor();
    await page.locator('input[name=username]').fill('alice');
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('button[type=submit]').click();
    const totp = page.locator('input[name=totp]');
    await totp.waitFor();
    await totp.fill('000000');
    await page.locator('button[type=submit]').click();
    await page.getByRole('alert').filter({ hasText: '验证码无效' }).waitFor();
    await totp.fill(generateSync({ secret }));
    await page.locator('button[type=submit]').click();
    await page.getByTestId('dashboard-tiles').waitFor();
    const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json()) as { user: { username: string; totpEnabled: boolean } };
    assert.equal(me.user.username, 'alice');
    assert.equal(me.user.totpEnabled, true);
  });
});
