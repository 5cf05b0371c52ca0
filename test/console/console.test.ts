import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTransport } from 'nodemailer';
import { ConsoleHarness, freshCode, PASSWORD, until } from './harness.ts';
import type { Tab } from './harness.ts';

/** Chinese words that are data entered by these tests, not interface text. */
const DATA_WORDS = /网银通知邮件延迟|切换备用出口|部分客户未收到通知|已电话联系客户|服务很好|您的电子账单|信用卡中心|证券营业部|月度账单客户|十二月账单|月度账单|客户\d+|上海|北京|广州|张三|李四|坏行二?|的账单|您好|电子账单/gu;

// The console in a real browser against a real server. Each test builds on what the ones
// before it made (one tenant, domain, account, list, template and campaign), as an operator would.
describe('web console in Chromium', () => {
  let h: ConsoleHarness;
  let admin: Tab;
  const state: { tenantId?: string; accountId?: string; domainId?: string; apiKey?: string; totpSecret?: string; listPath?: string; campaignPath?: string; ticketPath?: string; inspectionPath?: string } = {};
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
    // Enrolment asks for the password again; a wrong one is refused at its field.
    await page.locator('input[name=password]').fill('not the password');
    await page.getByRole('button', { name: '继续' }).click();
    await page.locator('.field-invalid').filter({ has: page.locator('input[name=password]') }).locator('.field-error').waitFor();
    assert.equal(await page.getByRole('img', { name: '身份验证器二维码' }).count(), 0);
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.getByRole('button', { name: '继续' }).click();
    await page.getByRole('img', { name: '身份验证器二维码' }).waitFor();
    await h.shot(page, 'profile-enrol', 'zh-CN');
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    await page.locator('input[name=code]').fill(await freshCode(secret));
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
    await totp.fill(await freshCode(secret));
    await page.locator('button[type=submit]').click();
    await page.getByTestId('dashboard-tiles').waitFor();
    const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json()) as { user: { username: string; totpEnabled: boolean } };
    assert.equal(me.user.username, 'alice');
    assert.equal(me.user.totpEnabled, true);
  });

  test('the first administrator must change the one-time password before anything else, then works with the new one', async () => {
    const tab = await h.tab('en');
    const { page } = tab;
    await page.goto(h.url('/login?next=%2Ftenants', 'en'));
    await page.locator('input[name=username]').fill(h.firstAdmin.username);
    await page.locator('input[name=password]').fill(h.firstAdmin.password);
    await page.locator('button[type=submit]').click();
    await page.getByRole('heading', { level: 1, name: 'Choose your own password' }).waitFor();
    // No screen and no navigation while the one-time password stands; the API refuses the session.
    assert.equal(await page.getByRole('navigation').count(), 0);
    assert.equal((await h.apiAs(page, 'GET', '/tenants')).status, 403);
    await h.shot(page, 'password-change', 'en');
    await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
    await page.getByRole('heading', { level: 1, name: '请设置您自己的密码' }).waitFor();
    await h.shot(page, 'password-change', 'zh-CN');
    await page.getByRole('combobox', { name: '语言' }).selectOption('en');
    await page.getByRole('heading', { level: 1, name: 'Choose your own password' }).waitFor();

    await page.getByLabel('Current password').fill(h.firstAdmin.password);
    await page.getByLabel('New password', { exact: true }).fill(h.firstAdmin.password);
    await page.getByLabel('Repeat the new password').fill(h.firstAdmin.password);
    await page.getByRole('button', { name: 'Set password and continue' }).click();
    // The API's answer (the new password must differ) is shown at the field it names.
    await page.locator('.field-invalid').filter({ has: page.locator('input[name=newPassword]') }).locator('.field-error').waitFor();
    await page.getByLabel('New password', { exact: true }).fill('first-admin-own-1');
    await page.getByLabel('Repeat the new password').fill('first-admin-own-2');
    await page.getByRole('button', { name: 'Set password and continue' }).click();
    await page.getByText('The two new passwords differ.').waitFor();
    await page.getByLabel('Repeat the new password').fill('first-admin-own-1');
    await page.getByRole('button', { name: 'Set password and continue' }).click();
    // Signed in again with the new password, on the screen first asked for.
    await page.getByRole('heading', { level: 1, name: 'Tenants and accounts' }).waitFor();
    const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json()) as { user: { username: string; mustChangePassword: boolean } };
    assert.deepEqual([me.user.username, me.user.mustChangePassword], [h.firstAdmin.username, false]);
    assert.equal((await h.apiAs(page, 'GET', '/tenants')).status, 200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name=password]').waitFor();
    await page.locator('input[name=username]').fill(h.firstAdmin.username);
    await page.locator('input[name=password]').fill(h.firstAdmin.password);
    await page.locator('button[type=submit]').click();
    await page.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor();
    assert.deepEqual(tab.errors, []);
    await tab.context.close();
  });

  test('tenant, domain and SMTP account made in the console; the new password works for SMTP AUTH and the old one does not', async () => {
    const { page } = admin;
    await page.goto(h.url('/tenants'));
    await page.getByRole('button', { name: '新建客户' }).click();
    await page.getByLabel('帐户名称').fill(tenantName);
    await page.getByRole('button', { name: '创建', exact: true }).click();
    await page.waitForURL(/\/tenants\/tn_/, { waitUntil: 'commit' });
    await page.getByRole('heading', { name: tenantName }).waitFor();
    state.tenantId = page.url().split('/tenants/')[1]!.split('?')[0]!;

    // A problem response is shown at the field it names.
    await page.getByRole('button', { name: '添加帐号' }).click();
    await page.getByLabel('帐号', { exact: true }).fill(accountName);
    await page.getByLabel('密码', { exact: true }).fill('short');
    await page.getByRole('button', { name: '添加', exact: true }).click();
    await page.locator('.field-invalid').filter({ has: page.getByLabel('密码', { exact: true }) }).locator('.field-error').waitFor();
    await page.getByLabel('密码', { exact: true }).fill('first-password-1');
    await page.getByLabel('配额').fill('100000');
    await page.getByRole('button', { name: '添加', exact: true }).click();
    const row = page.locator('tr').filter({ hasText: accountName });
    await row.waitFor();
    const accounts = await page.evaluate(async (t) => (await fetch(`/api/v1/accounts?tenantId=${t}`)).json(), state.tenantId) as { items: { id: string; name: string; quota: number }[] };
    assert.equal(accounts.items.length, 1);
    assert.equal(accounts.items[0]!.quota, 100000);
    state.accountId = accounts.items[0]!.id;

    await row.getByLabel(`${accountName} 的新密码`).fill('second-password-2');
    await row.getByRole('button', { name: '修改' }).click();
    await row.getByText('密码已修改。').waitFor();

    await page.goto(h.url('/domains'));
    await page.getByRole('button', { name: '添加域名' }).click();
    const form = page.locator('.card').filter({ has: page.getByRole('heading', { name: '添加域名' }) });
    await form.getByLabel('客户').selectOption({ label: tenantName });
    await form.getByLabel('域名', { exact: true }).fill('card.bank.test');
    await page.getByRole('button', { name: '创建', exact: true }).click();
    await page.waitForURL(/\/domains\/dm_/, { waitUntil: 'commit' });
    state.domainId = page.url().split('/domains/')[1];
    await page.getByRole('heading', { name: '需发布的 DNS 记录' }).waitFor();
    const recordRows = page.locator('.card').filter({ hasText: '需发布的 DNS 记录' }).locator('tbody tr');
    assert.ok(await recordRows.count() >= 3, 'SPF, DKIM and DMARC rows');
    assert.ok(await recordRows.first().getByRole('button', { name: '复制' }).count() >= 1);
    await page.getByRole('button', { name: '验证 DNS' }).click();
    // This machine has no DNS: each record gets its own verdict (missing or no answer), none is "not checked".
    await until(async () => (await recordRows.filter({ hasText: '尚未检查' }).count()) === 0, 'a verdict per record');

    // SMTP AUTH with the changed password: the new one is accepted, the old one refused.
    const smtp = (pass: string) => createTransport({ host: '127.0.0.1', port: h.smtpPort, secure: false, ignoreTLS: true, auth: { user: accountName, pass } });
    await smtp('second-password-2').verify();
    await assert.rejects(smtp('first-password-1').verify(), /535|Invalid|auth/i);
  });

  test('mail sent through the HTTP API with a key made in the console reaches the sink and shows in the delivery log and its timeline', async () => {
    const { page } = admin;
    await page.goto(h.url(`/tenants/${state.tenantId}?account=${state.accountId}`));
    await page.getByRole('button', { name: '创建 API 密钥' }).click();
    const key = (await page.getByTestId('new-api-key').textContent())!.trim();
    assert.match(key, /^fo_/);
    state.apiKey = key;
    const res = await fetch(`${h.baseUrl}/api/v1/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'statements@card.bank.test', subject: '{{ name }} 的账单', text: '您好 {{ name }}', recipients: [{ email: 'zhang@customer.test', vars: { name: '张三' } }, { email: 'nobody@customer.test', vars: { name: '李四' } }] }),
    });
    assert.equal(res.status, 202, await res.text());
    await until(() => h.sink.messages.some((m) => m.recipients.includes('zhang@customer.test')), 'the message at the sink');

    await page.goto(h.url('/delivery-log?recipient=zhang%40customer.test'));
    const row = page.locator('tbody tr').filter({ hasText: 'zhang@customer.test' });
    await until(async () => {
      await page.reload();
      return row.filter({ hasText: '投递成功' }).waitFor({ timeout: 2000 }).then(() => true, () => false);
    }, 'a delivered row');
    await page.goto(h.url('/delivery-log?outcome=failed'));
    await page.locator('tbody tr').filter({ hasText: 'nobody@customer.test' }).filter({ hasText: '550' }).waitFor();
    await page.goto(h.url('/delivery-log?recipient=zhang%40customer.test'));
    await row.getByRole('link', { name: '投递轨迹' }).click();
    await page.getByTestId('timeline').locator('li').filter({ hasText: 'zhang@customer.test' }).first().waitFor();
    assert.match(page.url(), /\/delivery-log\/messages\//);
  });

  test('an import shows its progress and the lines it refused', async () => {
    const { page } = admin;
    await page.goto(h.url(`/lists?tenantId=${state.tenantId}`));
    await page.getByRole('button', { name: '新建列表' }).click();
    await page.getByLabel('列表名称').fill('月度账单客户');
    await page.getByRole('button', { name: '创建', exact: true }).click();
    await page.getByRole('link', { name: '月度账单客户' }).click();
    await page.waitForURL(/\/lists\/tn_/, { waitUntil: 'commit' });
    state.listPath = new URL(page.url()).pathname;
    const lines = ['email,name,city'];
    for (let i = 0; i < 3000; i++) lines.push(`user${i}@customer.test,客户${i},上海`);
    lines.splice(5, 0, 'not-an-address,坏行,北京');
    lines.splice(9, 0, 'also@bad@customer.test,坏行二,广州');
    await page.locator('input[type=file]').setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n'), 'utf8') });
    await page.getByRole('button', { name: '开始导入' }).click();
    const progress = page.getByTestId('import-progress');
    await progress.waitFor();
    await page.locator('[data-testid=import-progress][data-status=completed]').waitFor();
    assert.equal(await progress.getByRole('progressbar').getAttribute('aria-valuenow'), await progress.getByRole('progressbar').getAttribute('aria-valuemax'));
    assert.match((await page.getByTestId('import-counts').textContent())!, /新增 3,000.*错误 2/);
    const errors = progress.locator('tbody tr');
    assert.equal(await errors.count(), 2);
    assert.match((await errors.nth(0).textContent())!, /^6/);
    assert.match((await errors.nth(1).textContent())!, /^10/);
  });

  test('a campaign made by one person needs a second person to approve it (four eyes)', async () => {
    const { page } = admin;
    await page.goto(h.url('/templates/new'));
    await page.getByLabel('客户').selectOption({ label: tenantName });
    await page.getByLabel('模板名称').fill('月度账单');
    // The live preview renders the MJML and Liquid with the sample variables.
    await until(async () => (await page.getByTestId('preview-subject').textContent().catch(() => '')) === '张三，您的电子账单', 'the live preview');
    await page.frameLocator('iframe.preview-frame').getByText('本期账单金额：1,280.00 元').waitFor();
    await page.getByRole('button', { name: '保存', exact: true }).click();
    await page.waitForURL(/\/templates\/tp_|\/templates\/[a-z]+_/, { waitUntil: 'commit' });

    await page.goto(h.url('/campaigns'));
    await page.getByRole('button', { name: '新建群发' }).click();
    const form = page.locator('.card').filter({ has: page.getByRole('heading', { name: '新建群发' }) });
    await form.getByLabel('客户').selectOption({ label: tenantName });
    await form.getByLabel('任务名称').fill('十二月账单');
    await form.getByLabel('发送帐号').selectOption({ label: accountName });
    await form.getByLabel('收件人列表').selectOption({ label: '月度账单客户' });
    await form.getByLabel('模板').selectOption({ label: '月度账单' });
    await form.getByLabel('发件人').fill('信用卡中心 <news@card.bank.test>');
    await form.getByRole('button', { name: '创建草稿' }).click();
    await page.waitForURL(/\/campaigns\/[a-z]+_/, { waitUntil: 'commit' });
    state.campaignPath = new URL(page.url()).pathname;
    await page.getByRole('button', { name: '提交审批' }).click();
    await until(async () => (await page.getByTestId('campaign-status').textContent()) === '待审批', 'pending approval');
    // The author may not approve: the button is there but refused, with the reason.
    assert.equal(await page.getByRole('button', { name: '审批通过' }).isDisabled(), true);
    await page.getByText('等待其他管理员或审计员审批（双人复核）。').waitFor();
    const selfApprove = await h.apiAs(page, 'POST', `/campaigns/${state.campaignPath.split('/').pop()}/approve`);
    assert.equal(selfApprove.status, 403);

    const auditor = await h.tab('zh-CN');
    await h.login(auditor, 'audrey');
    await auditor.page.goto(h.url(state.campaignPath));
    await auditor.page.getByRole('button', { name: '审批通过' }).click();
    await until(async () => ['已审批', '发送中', '已完成'].includes((await auditor.page.getByTestId('campaign-status').textContent()) ?? ''), 'approval');
    await auditor.context.close();
    // The author's screen follows the campaign live.
    await until(async () => ['发送中', '已完成'].includes((await page.getByTestId('campaign-status').textContent()) ?? ''), 'the campaign running', 30_000);
  });

  test('operations: a ticket made in the console shows its SLA clocks and moves through its states; an inspection run from the console joins its history', async () => {
    const { page } = admin;
    const title = '网银通知邮件延迟';
    await page.goto(h.url('/ops/tickets'));
    await page.getByRole('button', { name: '新建工单' }).click();
    const form = page.locator('.card').filter({ has: page.getByRole('heading', { name: '新建工单' }) });
    await form.getByLabel('故障等级').selectOption('P2');
    await form.getByLabel('联系人邮箱').fill('not an address');
    await form.getByLabel('标题').fill(title);
    await form.getByLabel('客户').selectOption({ label: tenantName });
    await form.getByLabel('联系人', { exact: true }).fill('张三');
    await form.getByLabel('故障描述').fill('部分客户未收到通知');
    await form.getByRole('button', { name: '提交工单' }).click();
    // The API's problem names the field; the form shows it there and nothing is created.
    await form.locator('.field-invalid').filter({ has: page.locator('input[name=contactEmail]') }).locator('.field-error').waitFor();
    await form.getByLabel('联系人邮箱').fill('ops@card.bank.test');
    await form.getByRole('button', { name: '提交工单' }).click();
    await page.waitForURL(/\/ops\/tickets\/[a-z]+_/, { waitUntil: 'commit' });
    state.ticketPath = new URL(page.url()).pathname;
    const id = state.ticketPath.split('/').pop()!;
    const api = async () => (await h.apiAs(page, 'GET', `/tickets/${id}`)).body as { status: string; tenantId: string; responseDueAt: string; resolutionDueAt: string; sla: Record<'response' | 'resolution', { state: string; pausedMinutes: number }>; faultReport: { dueAt: string | null; submittedAt: string | null } };
    const created = await api();
    assert.equal(created.tenantId, state.tenantId);

    // Both clocks run, each showing the deadline the API computed, in the user's time zone.
    const clocks = page.getByTestId('ticket-clocks').getByTestId('sla-clock');
    await clocks.first().waitFor();
    assert.deepEqual(await clocks.evaluateAll((els) => els.map((e) => e.getAttribute('data-state'))), ['running', 'running']);
    const shanghai = (iso: string) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(iso));
    assert.match((await clocks.nth(0).textContent())!, new RegExp(shanghai(created.responseDueAt)));
    assert.match((await clocks.nth(1).textContent())!, new RegExp(shanghai(created.resolutionDueAt)));
    assert.match((await clocks.nth(0).textContent())!, /15 分钟/);
    assert.match((await clocks.nth(1).textContent())!, /2 天/);

    const status = page.getByTestId('ticket-status');
    const move = async (button: string, expected: string, note?: string) => {
      if (note) await page.getByLabel('备注', { exact: true }).fill(note);
      await page.getByRole('button', { name: button, exact: true }).click();
      await until(async () => (await status.textContent()) === expected, `status ${expected}`);
    };
    await move('受理', '已受理');
    await until(async () => (await clocks.nth(0).getAttribute('data-state')) === 'stopped', 'the response clock stopped');
    await page.getByLabel('分配给').selectOption({ label: 'alice · 管理员' });
    await page.getByRole('button', { name: '分配', exact: true }).click();
    await until(async () => (await page.getByTestId('ticket-assignee').textContent()) === 'alice', 'the assignee');
    await move('等待客户', '等待客户', '已电话联系客户');
    await until(async () => (await clocks.nth(1).getAttribute('data-state')) === 'paused', 'the resolution clock paused');
    assert.equal((await api()).sla.resolution.state, 'paused');
    await h.shot(page, 'ops-ticket-detail', 'zh-CN');
    await move('继续处理', '处理中');
    await until(async () => (await clocks.nth(1).getAttribute('data-state')) === 'running', 'the resolution clock running again');
    await move('解决', '已解决');
    await until(async () => (await clocks.nth(1).getAttribute('data-state')) === 'stopped', 'the resolution clock stopped');
    // The fault report's own clock starts at resolution.
    const resolved = await api();
    assert.ok(resolved.faultReport.dueAt);
    await page.getByTestId('report-due').filter({ hasText: shanghai(resolved.faultReport.dueAt) }).waitFor();

    // A phone survey recorded on the customer's behalf.
    await page.getByLabel('服务满意度').selectOption('4');
    await page.getByLabel('技术水平').selectOption('3');
    await page.getByLabel('意见与建议').fill('服务很好');
    await page.getByRole('button', { name: '录入', exact: true }).click();
    await page.getByTestId('survey').filter({ hasText: '服务满意度 4 · 服务态度 5 · 技术水平 3 · 处理效果 5' }).waitFor();

    // The fault-handling report, handed over, and its HTML and PDF.
    await page.getByLabel('处理过程').fill('切换备用出口 IP');
    await page.getByRole('button', { name: '提交报告' }).click();
    await page.getByTestId('report-due').filter({ hasText: '已提交' }).waitFor();
    assert.ok((await api()).faultReport.submittedAt);
    const fetched = async (href: string) => page.evaluate(async (u) => { const r = await fetch(u); return { status: r.status, type: r.headers.get('content-type') ?? '', text: (await r.text()).slice(0, 200_000) }; }, href);
    const html = await fetched((await page.getByTestId('report-html-zh-CN').getAttribute('href'))!);
    assert.equal(html.status, 200);
    assert.ok(html.text.includes(title) && html.text.includes('切换备用出口 IP'), 'the report shows the ticket and its handling');
    const pdf = await fetched((await page.getByTestId('report-pdf-en').getAttribute('href'))!);
    assert.deepEqual([pdf.status, pdf.type, pdf.text.slice(0, 5)], [200, 'application/pdf', '%PDF-']);

    await move('重新打开', '待响应', '部分客户未收到通知');
    await until(async () => (await clocks.nth(1).getAttribute('data-state')) === 'running', 'the resolution clock running after the reopen');
    const timeline = page.getByTestId('ticket-timeline').locator('li');
    const texts = (await timeline.allTextContents()).join('\n');
    for (const step of ['创建工单（P2）', '待响应 → 已受理', '分配给 alice', '已受理 → 等待客户', '已电话联系客户', '等待客户 → 处理中', '处理中 → 已解决', '已收到满意度调查', '已提交故障处理报告', '已解决 → 待响应']) {
      assert.ok(texts.includes(step), `timeline: ${step}`);
    }

    // The list shows the ticket with both clocks at a glance.
    await page.goto(h.url('/ops/tickets?open=true'));
    const row = page.locator('tbody tr').filter({ hasText: title });
    await row.waitFor();
    assert.equal(await row.getByTestId('sla-clock').count(), 2);
    assert.equal(await row.getByTestId('ticket-status').textContent(), '待响应');

    // Averages per engineer include the survey just recorded.
    await page.goto(h.url('/ops/surveys'));
    const alice = page.locator('tbody tr').filter({ hasText: 'alice' });
    await alice.waitFor();
    assert.equal(await alice.textContent(), 'alice14.005.003.005.004.250');
    await page.locator('[data-testid=chart][data-rendered=true]').waitFor();

    // An inspection run from the console: announced, then in the history table and chart.
    await page.goto(h.url('/ops/inspections'));
    await page.getByRole('heading', { level: 1, name: '系统巡检' }).waitFor();
    for (let i = 0; i < 2; i++) {
      await page.getByRole('button', { name: '快速检查' }).click();
      const link = page.locator('.alert').getByRole('link', { name: '查看' });
      await link.waitFor({ timeout: 60_000 });
      state.inspectionPath = (await link.getAttribute('href'))!;
      await page.locator(`tbody a[href="${state.inspectionPath}"]`).waitFor();
      await page.reload();
    }
    await page.getByTestId('latest-inspection').waitFor();
    assert.ok(await page.locator('[data-testid^=category-]').count() >= 3, 'checks grouped by category');
    await page.locator('[data-testid=chart][data-rendered=true]').first().waitFor();
    await page.goto(h.url(state.inspectionPath!));
    await page.getByTestId('inspection-status').waitFor();
    // The second light inspection is compared with the first.
    await page.getByRole('link', { name: '上次巡检' }).waitFor();
    const report = await fetched((await page.getByTestId('report-html-en').getAttribute('href'))!);
    assert.equal(report.status, 200);
    assert.match(report.text, /Inspection report/i);

    // The dashboard shows the inspection verdict and the open ticket.
    await page.goto(h.url('/dashboard'));
    await page.getByTestId('dashboard-inspection').waitFor();
    await until(async () => Number(await page.getByTestId('open-P2').textContent()) >= 1, 'the open P2 ticket on the dashboard');
    await page.getByTestId('dashboard-tickets').getByRole('link', { name: title }).waitFor();
    assert.deepEqual(admin.errors, []);
  });

  test('an auditor sees no write buttons, and a write sent straight to the API is refused', async () => {
    const auditor = await h.tab('en');
    await h.login(auditor, 'audrey', { lang: 'en' });
    const { page } = auditor;
    const noButton = async (path: string, names: string[]) => {
      await page.goto(h.url(path));
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.waitForLoadState('networkidle');
      for (const name of names) assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `${name} on ${path}`);
    };
    await noButton('/tenants', ['New tenant']);
    await noButton(`/tenants/${state.tenantId}`, ['Add account', 'Delete', 'Change', 'Suspend tenant']);
    await noButton(`/tenants/${state.tenantId}?account=${state.accountId}`, ['Hold sending', 'Save', 'Create API key', 'Revoke']);
    await noButton('/domains', ['Add domain']);
    await noButton(`/domains/${state.domainId}`, ['Verify DNS', 'Delete', 'Rotate now', 'Turn on']);
    await noButton(`/lists?tenantId=${state.tenantId}`, ['New list']);
    await noButton(state.listPath!, ['Start import', 'Subscribe', 'Unsubscribe']);
    await noButton('/templates', ['New template']);
    await noButton('/campaigns', ['New campaign']);
    await noButton(state.campaignPath!, ['Pause', 'Cancel campaign', 'Submit for approval']);
    await noButton(`/suppressions?tenantId=${state.tenantId}`, ['Suppress', 'Remove']);
    await noButton('/users', ['New user', 'Disable', 'Set']);
    await noButton('/ops/tickets', ['New ticket']);
    await noButton(state.ticketPath!, ['Acknowledge', 'Start work', 'Resolve', 'Close', 'Reopen', 'Assign', 'Assign to me', 'Record survey', 'Hand over report', 'Save draft', 'Add note']);
    await noButton('/ops/inspections', ['Run inspection now', 'Run light checks']);
    assert.equal(await page.getByRole('link', { name: 'New template' }).count(), 0);

    assert.equal((await h.apiAs(page, 'POST', '/tenants', { name: 'Sneaky' })).status, 403);
    assert.equal((await h.apiAs(page, 'POST', `/tenants/${state.tenantId}/accounts`, { name: 'sneaky', password: 'long-enough-password' })).status, 403);
    assert.equal((await h.apiAs(page, 'DELETE', `/domains/${state.domainId}`)).status, 403);
    assert.equal((await h.apiAs(page, 'POST', `/tickets/${state.ticketPath!.split('/').pop()}/status`, { status: 'acknowledged' })).status, 403);
    assert.equal((await h.apiAs(page, 'POST', '/inspections', { kind: 'light' })).status, 403);
    const tenants = await page.evaluate(async () => (await fetch('/api/v1/tenants')).json()) as { items: { name: string }[] };
    assert.deepEqual(tenants.items.map((t) => t.name), [tenantName]);
    assert.deepEqual(auditor.errors, []);
    await auditor.context.close();
  });

  test('an operator works within their tenant and never sees another tenant\'s name', async () => {
    const { page } = admin;
    const other = await h.apiAs(page, 'POST', '/tenants', { name: '证券营业部' });
    assert.equal(other.status, 201);
    // The tenants table pages and filters on the server, with the filter in the address.
    await page.goto(h.url(`/tenants?q=${encodeURIComponent('证券')}`));
    await page.locator('tbody tr').filter({ hasText: '证券营业部' }).waitFor();
    assert.equal(await page.locator('tbody tr').count(), 1);
    assert.equal(await page.locator('input[name=q]').inputValue(), '证券');
    await page.goto(h.url('/users'));
    await page.getByRole('button', { name: '新建用户' }).click();
    const form = page.locator('.card').filter({ has: page.getByRole('heading', { name: '新建用户' }) });
    await form.getByLabel('用户名').fill('oscar');
    await form.getByLabel('密码').fill(PASSWORD);
    await form.getByLabel('角色').selectOption('operator');
    await form.getByLabel('客户').selectOption({ label: tenantName });
    await form.getByRole('button', { name: '创建', exact: true }).click();
    await page.locator('tbody tr').filter({ hasText: 'oscar' }).waitFor();

    const operator = await h.tab('zh-CN');
    await h.login(operator, 'oscar');
    for (const path of ['/dashboard', '/tenants', `/tenants/${state.tenantId}`, '/domains', '/lists', '/templates', '/campaigns', '/delivery-log', '/operation-log', '/users', '/suppressions', '/ops/tickets', state.ticketPath!, '/ops/surveys']) {
      await operator.page.goto(h.url(path));
      await operator.page.getByRole('heading', { level: 1 }).waitFor();
      await operator.page.waitForLoadState('networkidle');
      const html = await operator.page.content();
      assert.ok(!html.includes('证券营业部'), `another tenant's name on ${path}`);
    }
    await operator.page.goto(h.url('/tenants'));
    await operator.page.getByRole('link', { name: tenantName }).waitFor();
    // Operators may change their accounts' passwords, not create or delete accounts.
    await operator.page.goto(h.url(`/tenants/${state.tenantId}`));
    await operator.page.getByRole('button', { name: '修改' }).first().waitFor();
    assert.equal(await operator.page.getByRole('button', { name: '添加帐号' }).count(), 0);
    // The language is the operator's own: chosen in the top bar, stored on their user, and
    // in force at their next sign-in in a browser that never saw that choice.
    await operator.page.getByRole('combobox', { name: '语言' }).selectOption('en');
    await operator.page.getByRole('link', { name: 'Tenants and accounts' }).waitFor();
    await until(async () => ((await operator.page.evaluate(async () => (await fetch('/api/v1/auth/me')).json())) as { user: { locale: string } }).user.locale === 'en', 'the locale stored on the user');
    assert.deepEqual(operator.errors, []);
    await operator.context.close();
    const again = await h.tab('zh-CN');
    await h.login(again, 'oscar');
    await again.page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await again.context.close();
  });

  test('statistics screens: render the server\'s statistics and their exports, and the PRODUCT.md contract with known figures', async () => {
    const tab = await h.tab('zh-CN');
    await h.login(tab, 'alice', { totpSecret: state.totpSecret });
    const { page } = tab;
    for (const lang of ['zh-CN', 'en'] as const) {
      for (const kind of ['sends', 'failures']) {
        await page.goto(h.url(`/stats/${kind}`, lang));
        await page.getByTestId('stats-total').waitFor();
        assert.equal(await page.getByTestId('api-unavailable').count(), 0);
        const href = (await page.getByTestId('export-csv').getAttribute('href'))!;
        // The first bytes: a UTF-8 byte-order mark (text() would drop it).
        const csv = await page.evaluate(async (u) => { const r = await fetch(u); return { status: r.status, type: r.headers.get('content-type'), head: [...new Uint8Array(await r.arrayBuffer()).slice(0, 3)] }; }, href);
        assert.deepEqual(csv, { status: 200, type: 'text/csv; charset=utf-8', head: [0xef, 0xbb, 0xbf] });
      }
    }
    // A test double of the contract (GET /api/v1/stats/sends|failures, JSON as PRODUCT.md gives
    // it) with known figures: the screen's rows, totals, chart and export links are checked against it.
    const seen: string[] = [];
    await page.route(/\/api\/v1\/stats\/(sends|failures)\?/, async (route) => {
      const url = new URL(route.request().url());
      seen.push(url.pathname + url.search);
      const base = { from: '2010-08-01', to: '2010-08-31', timezone: url.searchParams.get('timezone') };
      if (url.pathname.endsWith('/sends')) {
        const row = (date: string, sourceIp: string, n: number) => ({ date, tenant: 'tn_x', tenantName: 'uemailtest.com', sourceIp, senderDomain: 'u-mail.net.cn', submitted: n, delivered: n, deferred: 0, failed: 0, bounced: 0, complained: 0, suppressed: 0 });
        const items = [row('2010-08-02', '202.103.191.7', 202), row('2010-08-02', '61.144.162.97', 4), row('2010-08-03', '61.144.162.97', 4), row('2010-08-05', '202.103.191.7', 500), row('2010-08-05', '61.144.162.97', 4)];
        await route.fulfill({ json: { ...base, total: { submitted: 714, delivered: 714, deferred: 0, failed: 0, bounced: 0, complained: 0, suppressed: 0 }, items } });
      } else {
        const row = (date: string, u: number, m: number, r: number) => ({ date, tenant: 'tn_x', tenantName: 'uemailtest.com', senderDomain: 'u-mail.net.cn', userUnknown: u, mailboxFull: m, rejected: r, other: 0, total: u + m + r });
        await route.fulfill({ json: { ...base, total: { userUnknown: 45, mailboxFull: 5, rejected: 68, other: 0, total: 118 }, items: [row('2010-08-02', 18, 0, 21), row('2010-08-05', 27, 4, 35), row('2010-08-06', 0, 1, 12)] } });
      }
    });
    await page.goto(h.url('/stats/sends?period=this_month', 'zh-CN'));
    await page.getByTestId('stats-total').filter({ hasText: '共计发送：714 封' }).waitFor();
    assert.equal(await page.locator('tbody tr').count(), 5);
    assert.match((await page.locator('thead').textContent())!, /日期.*公司名称.*IP.*域名.*发送量/);
    await page.locator('[data-testid=chart][data-rendered=true]').waitFor();
    const csv = await page.getByTestId('export-csv').getAttribute('href');
    assert.match(csv!, /^\/api\/v1\/stats\/sends\?period=this_month&groupBy=date%2Ctenant%2CsourceIp%2CsenderDomain&timezone=Asia%2FShanghai&format=csv$/);
    await h.shot(page, 'stats-sends-contract-fixture', 'zh-CN');
    await page.getByRole('button', { name: '上周' }).click();
    await until(() => seen.some((u) => u.includes('period=last_week')), 'the preset in the query');
    await page.getByLabel('开始日期').fill('2010-08-01');
    await page.getByLabel('结束日期').fill('2010-08-31');
    await page.getByRole('button', { name: '指定时间' }).click();
    await until(() => seen.some((u) => u.includes('from=2010-08-01&to=2010-08-31')), 'the custom range in the query');
    assert.match(page.url(), /from=2010-08-01&to=2010-08-31/);

    await page.goto(h.url('/stats/failures?period=this_month', 'zh-CN'));
    await page.getByText('其中 18 个邮箱地址不存在，0 个收件人的邮箱空间不足，21 个用户拒收').waitFor();
    await page.getByTestId('stats-total').filter({ hasText: '失败总数：118' }).waitFor();
    await page.locator('[data-testid=chart][data-rendered=true]').waitFor();
    await h.shot(page, 'stats-failures-contract-fixture', 'zh-CN');
    await page.goto(h.url('/stats/failures?period=this_month', 'en'));
    await page.getByText('of which 27 addresses do not exist, 4 mailboxes are full, 35 recipients rejected').waitFor();
    await h.shot(page, 'stats-failures-contract-fixture', 'en');
    await page.goto(h.url('/stats/sends?period=this_month', 'en'));
    await page.getByTestId('stats-total').filter({ hasText: 'Total sent: 714' }).waitFor();
    await h.shot(page, 'stats-sends-contract-fixture', 'en');
    assert.deepEqual(tab.errors, []);
    await tab.context.close();
  });

  test('every screen in both languages: no browser error, no missing catalogue key, a screenshot of each', async (t) => {
    const screens: [string, string][] = [
      ['dashboard', '/dashboard'], ['stats-sends', '/stats/sends'], ['stats-failures', '/stats/failures'], ['delivery-log', '/delivery-log'],
      ['message-timeline', ''], ['operation-log', '/operation-log'], ['tenants', '/tenants'], ['tenant-detail', `/tenants/${state.tenantId}?account=${state.accountId}`],
      ['domains', '/domains'], ['domain-detail', `/domains/${state.domainId}`], ['lists', `/lists?tenantId=${state.tenantId}`], ['list-detail', state.listPath!],
      ['templates', '/templates'], ['template-editor', ''], ['campaigns', '/campaigns'], ['campaign-detail', state.campaignPath!],
      ['suppressions', `/suppressions?tenantId=${state.tenantId}`], ['users', '/users'], ['profile', '/profile'],
      ['webhooks', '/webhooks'], ['ops-inspections', '/ops/inspections'], ['ops-inspection-detail', state.inspectionPath!], ['ops-tickets', '/ops/tickets'],
      ['ops-ticket-detail', state.ticketPath!], ['ops-surveys', '/ops/surveys'],
    ];
    const events = await admin.page.evaluate(async () => (await fetch('/api/v1/delivery/events?limit=1')).json()) as { items: { messageId: string }[] };
    const templates = await admin.page.evaluate(async () => (await fetch('/api/v1/templates')).json()) as { items: { id: string }[] };
    screens.find((s) => s[0] === 'message-timeline')![1] = `/delivery-log/messages/${events.items[0]!.messageId}`;
    screens.find((s) => s[0] === 'template-editor')![1] = `/templates/${templates.items[0]!.id}`;

    for (const lang of ['zh-CN', 'en'] as const) {
      const tab = await h.tab(lang);
      // The sign-in screen, and the first load's JavaScript as the browser received it.
      await tab.page.goto(h.url('/login', lang));
      await tab.page.locator('input[name=username]').waitFor();
      const js = await tab.page.evaluate(`performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js')).reduce((n, e) => n + e.encodedBodySize, 0)`) as number;
      t.diagnostic(`${lang}: first load ${(js / 1024).toFixed(1)} KB of compressed JavaScript`);
      assert.ok(js > 0);
      await h.shot(tab.page, 'login', lang);

      await h.login(tab, 'alice', { lang, totpSecret: state.totpSecret });
      // Dashboard interactive: from navigation start to today's figures on screen (reported, not asserted).
      await tab.page.goto(h.url('/dashboard'));
      await tab.page.locator('[data-testid=dashboard-tiles][data-ready=true]').waitFor();
      const ready = await tab.page.evaluate('performance.now()') as number;
      t.diagnostic(`${lang}: dashboard interactive after ${Math.round(ready)} ms`);

      for (const [name, path] of screens) {
        await tab.page.goto(h.url(path));
        const h1 = tab.page.getByRole('heading', { level: 1 });
        await h1.waitFor();
        await tab.page.waitForLoadState('networkidle');
        await tab.page.locator('text=/^(加载中…|Loading…)$/').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {});
        const title = (await h1.textContent()) ?? '';
        if (lang === 'zh-CN') assert.match(title + (await tab.page.locator('.page-subtitle').first().textContent().catch(() => '')), /\p{Script=Han}/u, `${name} in Chinese`);
        else {
          // English screens: every Chinese word left is data the tests entered (names, addresses, template text).
          const text = await tab.page.evaluate(`(() => { const m = document.querySelector('main').cloneNode(true); m.querySelectorAll('textarea').forEach((x) => x.remove()); return m.textContent; })()`) as string;
          const untranslated = text.replace(DATA_WORDS, '').match(/\p{Script=Han}+/gu);
          assert.equal(untranslated, null, `${name}: untranslated text in English: ${untranslated?.join(' ')}`);
        }
        await h.shot(tab.page, name, lang);
        assert.deepEqual(tab.errors, [], `${name} (${lang})`);
      }
      if (lang === 'en') {
        // Enrolment of a new device, with its QR code (the last use of this user's TOTP here).
        await tab.page.goto(h.url('/profile'));
        tab.page.once('dialog', (d) => void d.accept());
        await tab.page.getByRole('button', { name: 'Enrol a new device' }).click();
        // With TOTP on, moving it to a new device needs the password and a current code.
        await tab.page.locator('input[name=password]').fill(PASSWORD);
        await tab.page.getByLabel('Current authenticator code').fill(await freshCode(state.totpSecret!));
        await tab.page.getByRole('button', { name: 'Continue' }).click();
        await tab.page.getByRole('img', { name: 'QR code for the authenticator app' }).waitFor();
        await h.shot(tab.page, 'profile-enrol', lang);
      }
      // The language switch changes the screen at once.
      await tab.page.goto(h.url('/tenants'));
      const other = lang === 'en' ? 'zh-CN' : 'en';
      await tab.page.getByRole('combobox', { name: lang === 'en' ? 'Language' : '语言' }).selectOption(other);
      await tab.page.getByRole('heading', { level: 1, name: other === 'en' ? 'Tenants and accounts' : '帐户信息管理' }).waitFor();
      await tab.context.close();
    }
  });
});
