import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import type { FastifyInstance } from 'fastify';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/log.ts';
import { decodeVerp, verpReturnPath } from '../bounces/verp.ts';
import { classifySmtpReply } from '../bounces/smtp-reply.ts';
import { getPlatformSecret } from '../store/platform-secret.ts';
import { startDelivery } from '../delivery/index.ts';
import type { Delivery } from '../delivery/index.ts';
import { createDomain } from '../domains/service.ts';
import { importSubscribers } from '../subscribers/import/import.ts';
import { createList } from '../subscribers/lists.ts';
import { createTenant } from '../tenants/service.ts';
import { testApp, testConfig } from '../testing/http.ts';
import { SmtpSink } from '../testing/smtp-sink.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { CampaignRunner } from './runner.ts';
import { approveCampaign, createCampaign, getCampaign, submitCampaign } from './service.ts';
import { createTemplate } from '../templates/stored.ts';

const admin: Actor = { operator: 'admin', userId: 'us_admin', clientIp: '127.0.0.1', role: 'administrator' };
const auditor: Actor = { operator: 'auditor', userId: 'us_auditor', clientIp: '127.0.0.1', role: 'auditor' };

const until = async (check: () => Promise<boolean>, what: string, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describeEachEngine('campaign end to end through the delivery engine', (get) => {
  let sink: SmtpSink;
  let delivery: Delivery;
  let app: FastifyInstance;

  test('import, template, approval, delivery with DKIM and unsubscribe headers; one-click unsubscribe; second campaign skips; opens and clicks', async () => {
    const { store, dataDir } = get();
    sink = await SmtpSink.start({ starttls: false });
    const config = testConfig(dataDir, { http: { publicUrl: 'http://127.0.0.1:8080', host: '127.0.0.1', port: 0, trustProxy: false, bodyLimitBytes: 1_000_000 }, delivery: { routes: { '*': `127.0.0.1:${sink.port}` } } });
    const secret = await getPlatformSecret(store);
    delivery = await startDelivery(store, config, { submission: false, returnPath: verpReturnPath(secret), classify: (r) => classifySmtpReply({ replyCode: r.replyCode ?? undefined, status: r.status ?? undefined, text: r.text }), senderTuning: { pollMs: 20 } });
    app = await testApp(store, dataDir, { http: config.http });
    try {
      const tenant = await createTenant(store, admin, { name: 'Wealth' });
      const domain = await createDomain(store, admin, { tenantId: tenant.id, domain: 'wealth.bank.example' });
      const account = await createAccount(store, admin, { tenantId: tenant.id, name: 'wealth-marketing', password: 'long enough' });
      const operator: Actor = { operator: 'olivia', userId: 'us_olivia', clientIp: '127.0.0.1', role: 'operator', tenantId: tenant.id };
      const list = await createList(store, operator, { tenantId: tenant.id, name: 'Private banking' });
      const csv = 'email,name,city\nwang@client.example,王先生,上海\nli@client.example,李女士,北京\nzhao@client.example,Zhao,Shenzhen\nwang@client.example,dup,x\nbroken-address,x,y\n';
      const report = await importSubscribers(store, operator, { tenantId: tenant.id, listId: list.id, source: Readable.from([csv]), format: 'csv' });
      assert.equal(report.imported, 3);
      assert.equal(report.errors.length, 1);
      assert.equal(report.errors[0]?.line, 6);

      const template = await createTemplate(store, operator, tenant.id, { name: 'Invite', subject: '{{ name }}，{{ city }}财富讲座邀请', html: '<p>尊敬的{{ name }}：</p><p><a href="https://wealth.bank.example/seminar?city={{ city }}">报名</a></p>' });
      const run = async (name: string) => {
        const c = await createCampaign(store, operator, tenant.id, { name, accountId: account.id, listId: list.id, templateId: template.id, from: `"财富管理" <invite@${domain.domain}>` });
        await submitCampaign(store, operator, tenant.id, c.id);
        await approveCampaign(store, auditor, null, c.id);
        await new CampaignRunner(store, { nodeId: 'e2e', publicUrl: config.http.publicUrl }).drain();
        return c.id;
      };

      const first = await run('Seminar');
      await sink.waitForMessages(3, 30_000);
      assert.deepEqual(sink.messages.flatMap((m) => m.recipients).sort(), ['li@client.example', 'wang@client.example', 'zhao@client.example']);
      const key = await store.db.selectFrom('dkim_keys').select(['selector', 'public_key']).where('domain_id', '=', domain.id).where('active', '=', 1).executeTakeFirstOrThrow();
      const resolver = async (name: string, type: string) => {
        if (type === 'TXT' && name === `${key.selector}._domainkey.${domain.domain}`) return [[`v=DKIM1; k=rsa; p=${key.public_key}`]];
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      };
      let wangUnsubscribe = '';
      let wangClick = '';
      let wangOpen = '';
      for (const m of sink.messages) {
        const mail = await simpleParser(m.raw);
        const to = m.recipients[0]!;
        const dkim = await dkimVerify(m.raw, { resolver });
        assert.equal(dkim.results[0]?.status.result, 'pass', `DKIM for ${to}: ${JSON.stringify(dkim.results[0]?.status)}`);
        assert.equal(dkim.results[0]?.signingDomain, domain.domain);
        const headers = m.raw.toString('latin1').split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
        assert.match(headers, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
        const unsub = /^List-Unsubscribe: <http:\/\/127\.0\.0\.1:8080(\/u\/[^>]+)>/m.exec(headers);
        assert.ok(unsub, `List-Unsubscribe for ${to}`);
        const signed = (/^DKIM-Signature:.*\bh=([^;]+)/mi.exec(headers)?.[1] ?? '').toLowerCase();
        assert.match(signed, /list-unsubscribe/);
        assert.match(signed, /list-unsubscribe-post/);
        const verp = decodeVerp(m.mailFrom, secret);
        assert.ok(verp, `VERP return path for ${to}: ${m.mailFrom}`);
        const expected = { 'wang@client.example': ['王先生', '上海'], 'li@client.example': ['李女士', '北京'], 'zhao@client.example': ['Zhao', 'Shenzhen'] }[to]!;
        assert.equal(mail.subject, `${expected[0]}，${expected[1]}财富讲座邀请`);
        assert.match(mail.html || '', new RegExp(`尊敬的${expected[0]}`));
        if (to === 'wang@client.example') {
          wangUnsubscribe = unsub[1]!;
          wangClick = /href="http:\/\/127\.0\.0\.1:8080(\/t\/c\/[^"]+)"/.exec(mail.html || '')![1]!;
          wangOpen = /src="http:\/\/127\.0\.0\.1:8080(\/t\/o\/[^"]+)"/.exec(mail.html || '')![1]!;
        }
      }
      await until(async () => (await getCampaign(store.db, tenant.id, first)).progress.delivered === 3, 'delivered progress');

      assert.equal((await app.inject({ method: 'GET', url: wangOpen })).statusCode, 200);
      const click = await app.inject({ method: 'GET', url: wangClick });
      assert.equal(click.statusCode, 302);
      assert.equal(click.headers.location, 'https://wealth.bank.example/seminar?city=%E4%B8%8A%E6%B5%B7');
      const post = await app.inject({ method: 'POST', url: wangUnsubscribe, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
      assert.equal(post.statusCode, 200);
      const progress = (await getCampaign(store.db, tenant.id, first)).progress;
      assert.deepEqual([progress.total, progress.delivered, progress.opened, progress.clicked, progress.unsubscribed], [3, 3, 1, 1, 1]);

      sink.messages.length = 0;
      const second = await run('Follow-up');
      await until(async () => (await getCampaign(store.db, tenant.id, second)).progress.delivered === 2, 'second campaign delivered');
      assert.deepEqual(sink.messages.flatMap((m) => m.recipients).sort(), ['li@client.example', 'zhao@client.example']);
      assert.equal((await getCampaign(store.db, tenant.id, second)).progress.total, 2);
    } finally {
      await app.close();
      await delivery.stop();
      await sink.close();
    }
  });
});
