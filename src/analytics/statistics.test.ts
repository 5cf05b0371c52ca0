import assert from 'node:assert/strict';
import { test } from 'node:test';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import nodemailer from 'nodemailer';
import { createApiKey } from '../accounts/apikeys.ts';
import { createAccount } from '../accounts/service.ts';
import type { Actor } from '../audit/index.ts';
import { recordBounceEvent } from '../bounces/index.ts';
import { createDomain } from '../domains/service.ts';
import { createTenant } from '../tenants/service.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import { startTestServer } from '../testing/server.ts';
import { SmtpSink } from '../testing/smtp-sink.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { localDate } from './periods.ts';

const admin: Actor = { operator: 'admin', clientIp: '127.0.0.1', role: 'administrator' };

const until = async (check: () => boolean | Promise<boolean>, what: string, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

type Counts = Record<string, number>;

describeEachEngine('sending and failure statistics', (get) => {
  test('mail over SMTP and HTTP to a sink that accepts, defers and refuses: every period and grouping equals the sink\'s own log; exports equal the rows', async () => {
    const t = get();
    const { store } = t;
    const sink = await SmtpSink.start({ starttls: false, rules: { later: 'defer-450', nobody: 'unknown-550', stuffed: 'full-552' } });
    const server = await startTestServer(t, {
      roles: ['http', 'smtp', 'sender'], timezone: 'Asia/Shanghai',
      smtp: { host: '127.0.0.1', port: 0, hostname: 'submit.fanout.test' },
      delivery: { routes: { '*': `127.0.0.1:${sink.port}` }, retry: { initialMinutes: 600 }, egress: { sourceIps: ['127.0.0.1'] } },
    });
    try {
      const tenant = await createTenant(store, admin, { name: '招商证券' });
      const domain = await createDomain(store, admin, { tenantId: tenant.id, domain: 'sec.example' });
      const account = await createAccount(store, admin, { tenantId: tenant.id, name: 'statements', password: 'long enough password' });
      const other = await createTenant(store, admin, { name: 'Other' });
      const { key } = await createApiKey(store, admin, { tenantId: tenant.id, accountId: account.id });
      const smtpPort = Number(server.logs.find((l) => l.msg === 'SMTP submission listening')?.port);
      assert.ok(smtpPort > 0);

      // Over SMTP: one message to five recipients (two delivered, one deferred, one unknown, one mailbox full).
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, auth: { user: account.name, pass: 'long enough password' } });
      await transport.sendMail({ from: `bills@${domain.domain}`, to: ['a1@gmail.example', 'a2@qq.example', 'later@qq.example', 'nobody@gmail.example', 'stuffed@163.example'], subject: '对账单', text: 'x' });
      transport.close();
      // Over HTTP: three messages, one recipient each.
      const res = await server.fetch('/api/v1/messages', {
        method: 'POST', headers: { authorization: `Bearer ${key}` },
        json: { from: `news@${domain.domain}`, subject: 'Hi {{ n }}', text: 'x', stream: 'bulk', recipients: [{ email: 'b1@gmail.example', vars: { n: 1 } }, { email: 'b2@163.example', vars: { n: 2 } }, { email: 'nobody@qq.example', vars: { n: 3 } }] },
      });
      assert.equal(res.status, 202, await res.text());
      await until(() => sink.replies.length >= 8, 'the sink to answer every recipient');
      // The completion transaction commits after the sink's reply: wait for the events too.
      await until(async () => Number((await store.db.selectFrom('delivery_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n) >= 8, 'delivery events');

      // The sink's own log, counted the way the statistics count.
      const log = sink.replies;
      const expected = (pick: (r: { recipient: string; code: number }) => boolean) => ({
        delivered: log.filter((r) => pick(r) && r.code === 250).length,
        deferred: log.filter((r) => pick(r) && r.code >= 400 && r.code < 500).length,
        failed: log.filter((r) => pick(r) && r.code >= 500).length,
      });
      const all = expected(() => true);
      assert.deepEqual(all, { delivered: 4, deferred: 1, failed: 3 });
      const api = (path: string) => server.fetch(path, { headers: { authorization: `Bearer ${key}` } });

      const periods = ['today', 'this_week', 'this_month'];
      for (const period of periods) {
        const body = await (await api(`/api/v1/stats/sends?period=${period}`)).json() as { from: string; to: string; timezone: string; total: Counts; items: Counts[] };
        assert.equal(body.timezone, 'Asia/Shanghai');
        assert.deepEqual(body.total, { submitted: 8, ...all, bounced: 0, complained: 0, suppressed: 0 }, period);
      }
      for (const period of ['yesterday', 'last_week', 'last_month']) {
        const body = await (await api(`/api/v1/stats/sends?period=${period}`)).json() as { total: Counts; items: unknown[] };
        assert.equal(body.total.submitted, 0, period);
        assert.deepEqual(body.items, []);
      }
      const today = localDate(Date.now(), 'Asia/Shanghai');
      const ranged = await (await api(`/api/v1/stats/sends?from=${today}&to=${today}&groupBy=date,hour,tenant,account,clientIp,sourceIp,senderDomain,recipientDomain`)).json() as { items: (Counts & Record<string, string>)[] };
      // By recipient domain, each row equals the sink's log for that domain.
      for (const d of ['gmail.example', 'qq.example', '163.example']) {
        const rows = ranged.items.filter((r) => r.recipientDomain === d);
        const sum = (k: string) => rows.reduce((n, r) => n + Number(r[k]), 0);
        assert.deepEqual({ delivered: sum('delivered'), deferred: sum('deferred'), failed: sum('failed') }, expected((r) => r.recipient.endsWith(`@${d}`)), d);
      }
      assert.ok(ranged.items.every((r) => r.date === today && String(r.hour).startsWith(today) && r.tenant === tenant.id && r.tenantName === '招商证券' && r.accountName === 'statements' && r.senderDomain === 'sec.example'));
      assert.ok(ranged.items.every((r) => r.clientIp === '127.0.0.1' || r.clientIp === '::ffff:127.0.0.1'), JSON.stringify(ranged.items.map((r) => r.clientIp)));
      const bySource = await (await api('/api/v1/stats/sends?period=today&groupBy=sourceIp')).json() as { items: (Counts & { sourceIp: string })[] };
      // Submissions have no egress address yet; every attempt left from the address the sink saw.
      assert.deepEqual([...new Set(sink.messages.map((m) => m.remoteAddress.replace(/^::ffff:/, '')))], ['127.0.0.1']);
      assert.deepEqual(bySource.items.map((r) => [r.sourceIp, r.submitted, r.delivered, r.deferred, r.failed]), [['', 8, 0, 0, 0], ['127.0.0.1', 0, 4, 1, 3]]);

      // A bounce after acceptance counts as bounced and as a failure.
      const delivered = await store.db.selectFrom('delivery_recipients').select(['id', 'message_id', 'recipient']).where('recipient', '=', 'a1@gmail.example').executeTakeFirstOrThrow();
      await store.transaction((trx) => recordBounceEvent(trx, {
        inboundId: null, tenantId: tenant.id, messageId: delivered.message_id, recipientId: delivered.id, recipient: delivered.recipient, kind: 'bounce',
        reason: 'mailboxfull', hard: false, status: '5.2.2', replyCode: '552', diagnostic: 'full', linkedBy: 'verp',
      }));
      const failures = await (await api('/api/v1/stats/failures?period=today&groupBy=recipientDomain')).json() as { total: Counts & { reasons: Counts }; items: (Counts & { recipientDomain: string; reasons: Counts })[] };
      assert.deepEqual(failures.total, { total: 4, userUnknown: 2, mailboxFull: 2, rejected: 0, other: 0, reasons: { userunknown: 2, mailboxfull: 2 } });
      assert.deepEqual(failures.items.map((r) => [r.recipientDomain, r.userUnknown, r.mailboxFull]), [['163.example', 0, 1], ['gmail.example', 1, 1], ['qq.example', 1, 0]]);
      const sends = await (await api('/api/v1/stats/sends?period=today&groupBy=')).json() as { total: Counts; items: Counts[] };
      assert.equal(sends.total.bounced, 1);
      assert.deepEqual(sends.items, [sends.total]);

      // Exports: the same rows, CSV with a BOM, XLSX readable.
      const csvRes = await api(`/api/v1/stats/failures?period=today&groupBy=recipientDomain&format=csv`);
      assert.equal(csvRes.status, 200);
      assert.match(csvRes.headers.get('content-type')!, /^text\/csv/);
      const csvText = Buffer.from(await csvRes.arrayBuffer()).toString('utf8');
      assert.ok(csvText.startsWith('\uFEFF'));
      const csvRows = parse(csvText.slice(1), { columns: true }) as Record<string, string>[];
      assert.deepEqual(csvRows.map((r) => [r.recipientDomain, Number(r.total), Number(r['reasons.mailboxfull'] || 0)]), failures.items.map((r) => [r.recipientDomain, r.total, r.reasons.mailboxfull ?? 0]));
      const xlsxRes = await api(`/api/v1/stats/sends?period=today&groupBy=recipientDomain&format=xlsx`);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(Buffer.from(await xlsxRes.arrayBuffer()) as unknown as ArrayBuffer);
      const sheet = wb.worksheets[0]!;
      const header = (sheet.getRow(1).values as unknown[]).slice(1);
      const jsonRows = (await (await api('/api/v1/stats/sends?period=today&groupBy=recipientDomain')).json() as { items: Record<string, unknown>[] }).items;
      assert.equal(sheet.rowCount, jsonRows.length + 1);
      jsonRows.forEach((r, i) => assert.deepEqual((sheet.getRow(i + 2).values as unknown[]).slice(1), header.map((h) => r[String(h)])));

      // Scope: another tenant's operator sees nothing; the API key cannot widen its scope.
      const app = await testApp(store, t.dataDir);
      const op = await sessionFor(app, store, 'operator', other.id);
      assert.equal((await op.request('GET', '/api/v1/stats/sends?period=today')).json().total.submitted, 0);
      assert.equal((await (await api(`/api/v1/stats/sends?period=today&tenantId=${other.id}`)).json() as { total: Counts }).total.submitted, 8);
      const auditor = await sessionFor(app, store, 'auditor');
      assert.equal((await auditor.request('GET', `/api/v1/stats/sends?period=today&tenantId=${tenant.id}`)).json().total.submitted, 8);

      // Bad input: a problem naming the field.
      for (const [q, field] of [
        ['period=fortnight', '/querystring/period'], ['groupBy=date,planet', '/querystring/groupBy'], ['from=2026-08-31&to=2026-08-01', '/querystring/from'],
        ['from=2001-01-01&to=2001-01-02', '/querystring/from'], ['from=2026-02-30&to=2026-03-01', '/querystring/from'], ['timezone=Mars/Olympus', '/querystring/timezone'],
        ['timezone=Asia/Kolkata', '/querystring/timezone'], ['format=pdf', '/querystring/format'],
      ] as const) {
        const r = await auditor.request('GET', `/api/v1/stats/sends?${q}`);
        assert.equal(r.statusCode, 400, q);
        assert.ok(JSON.stringify(r.json()).includes(field), `${q}: ${r.body}`);
      }
      await app.close();
    } finally {
      await server.stop();
      await sink.close();
    }
  });
});
