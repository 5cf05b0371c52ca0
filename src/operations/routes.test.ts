import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { simpleParser } from 'mailparser';
import { getPlatformSecret } from '../store/platform-secret.ts';
import { listOperations } from '../audit/queries.ts';
import { sessionFor, testApp } from '../testing/http.ts';
import type { Session } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { createTenant } from '../tenants/service.ts';
import { signSurveyToken } from './surveys/tokens.ts';
import { makeUser, TEST_ACTOR, tenantWithDomains } from '../testing/operations.ts';
import { pdfText } from '../testing/pdf-text.ts';

interface Ticket { id: string; tenantId: string | null; status: string; priority: string; responseDueAt: string; resolutionDueAt: string; createdAt: string; parentTicketId: string | null; faultReport: { dueAt: string | null; submittedAt: string | null }; timeline: { type: string; detail: Record<string, unknown> }[] }

describeEachEngine('operations HTTP API: tickets, roles, reports, surveys, bad input', (get) => {
  let app: FastifyInstance;
  let admin: Session;
  let support: Session;
  let auditor: Session;
  let operator: Session;
  let otherOperator: Session;
  let tenantId = '';
  let engineerId = '';

  before(async () => {
    const { store, dataDir, databaseUrl } = get();
    const t = await tenantWithDomains(store, ['ops.test'], 'opsmail');
    tenantId = t.tenantId;
    const other = await createTenant(store, TEST_ACTOR, { name: 'Other Bank' });
    app = await testApp(store, dataDir, { databaseUrl, http: { publicUrl: 'https://fanout.bank.test' }, operations: { customer: { name: '恒丰银行' }, mail: { from: 'ops@ops.test', account: 'opsmail' } } });
    admin = await sessionFor(app, store, 'administrator');
    support = await sessionFor(app, store, 'support');
    auditor = await sessionFor(app, store, 'auditor');
    operator = await sessionFor(app, store, 'operator', tenantId);
    otherOperator = await sessionFor(app, store, 'operator', other.id);
    engineerId = (await makeUser(store, 'support', 'engineer-li')).id;
  });

  test('bad input to every endpoint: a problem response naming the field, nothing stored', async () => {
    const { store } = get();
    const t = (await support.request('POST', '/api/v1/tickets', { priority: 'P4', title: 'question' })).json() as Ticket;
    const before = await store.db.selectFrom('ops_tickets').select('id').execute();
    const cases: [string, 'GET' | 'POST' | 'PUT', string, unknown, string][] = [
      ['priority P5', 'POST', '/api/v1/tickets', { priority: 'P5', title: 'x' }, '/body/priority'],
      ['missing title', 'POST', '/api/v1/tickets', { priority: 'P1' }, '/body/title'],
      ['unknown field', 'POST', '/api/v1/tickets', { priority: 'P1', title: 'x', severity: 1 }, '/body/severity'],
      ['bad contact email', 'POST', '/api/v1/tickets', { priority: 'P1', title: 'x', contactEmail: 'nobody' }, '/body/contactEmail'],
      ['unknown tenant', 'POST', '/api/v1/tickets', { priority: 'P1', title: 'x', tenantId: 'tn_nope' }, '/body/tenantId'],
      ['bad occurredAt', 'POST', '/api/v1/tickets', { priority: 'P1', title: 'x', occurredAt: 'yesterday' }, '/body/occurredAt'],
      ['status unknown', 'POST', `/api/v1/tickets/${t.id}/status`, { status: 'done' }, '/body/status'],
      ['assignee not support', 'POST', `/api/v1/tickets/${t.id}/assign`, { assigneeId: 'nobody-here' }, '/body/assigneeId'],
      ['assign missing', 'POST', `/api/v1/tickets/${t.id}/assign`, {}, '/body/assigneeId'],
      ['empty comment', 'POST', `/api/v1/tickets/${t.id}/comments`, { text: '' }, '/body/text'],
      ['report unknown field', 'PUT', `/api/v1/tickets/${t.id}/report`, { cause: 'x' }, '/body/cause'],
      ['report bad date', 'PUT', `/api/v1/tickets/${t.id}/report`, { occurredAt: 'soon' }, '/body/occurredAt'],
      ['survey score 6', 'POST', `/api/v1/tickets/${t.id}/survey`, { satisfaction: 6, attitude: 5, technical: 5, effect: 5 }, '/body/satisfaction'],
      ['survey missing effect', 'POST', `/api/v1/tickets/${t.id}/survey`, { satisfaction: 5, attitude: 5, technical: 5 }, '/body/effect'],
      ['inspection kind', 'POST', '/api/v1/inspections', { kind: 'deep' }, '/body/kind'],
      ['report format', 'GET', `/api/v1/tickets/${t.id}/report?format=docx`, undefined, '/querystring/format'],
      ['report lang', 'GET', `/api/v1/tickets/${t.id}/report?lang=fr`, undefined, '/querystring/lang'],
      ['inspection report format', 'GET', '/api/v1/inspections/insp_x/report?format=txt', undefined, '/querystring/format'],
      ['ticket list status', 'GET', '/api/v1/tickets?status=gone', undefined, '/querystring/status'],
      ['ticket list limit', 'GET', '/api/v1/tickets?limit=0', undefined, '/querystring/limit'],
      ['inspection list from', 'GET', '/api/v1/inspections?from=monday', undefined, '/querystring/from'],
      ['series without key', 'GET', '/api/v1/inspections/series?from=2026-01-01T00:00:00Z', undefined, '/querystring/key'],
      ['events cursor', 'GET', '/api/v1/tickets/events?after=-1', undefined, '/querystring/after'],
      ['stats groupBy', 'GET', '/api/v1/surveys/stats?groupBy=tenant', undefined, '/querystring/groupBy'],
    ];
    for (const [name, method, url, body, field] of cases) {
      const res = await support.request(method, url, body);
      assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/, name);
      const problem = res.json() as { errors: { field: string }[] };
      assert.ok(problem.errors.some((e) => e.field === field), `${name}: ${res.body}`);
    }
    const transition = await support.request('POST', `/api/v1/tickets/${t.id}/status`, { status: 'closed' });
    assert.equal(transition.statusCode, 409, 'an open ticket cannot be closed without being resolved');
    const survey = await app.inject({ method: 'POST', url: '/survey/not-a-token', payload: { satisfaction: 9 } });
    assert.equal(survey.statusCode, 400);
    assert.ok((survey.json() as { errors: { field: string }[] }).errors.some((e) => e.field.startsWith('/body/')));
    assert.equal((await store.db.selectFrom('ops_tickets').select('id').execute()).length, before.length);
  });

  test('roles: auditors read, support and administrators work, operators see only their tenant', async () => {
    assert.equal((await auditor.request('POST', '/api/v1/tickets', { priority: 'P3', title: 'x' })).statusCode, 403);
    assert.equal((await auditor.request('POST', '/api/v1/inspections', { kind: 'light' })).statusCode, 403);
    assert.equal((await operator.request('POST', '/api/v1/inspections', { kind: 'light' })).statusCode, 403);
    const run = await admin.request('POST', '/api/v1/inspections', { kind: 'light' });
    assert.equal(run.statusCode, 201, run.body);
    assert.equal((await auditor.request('GET', `/api/v1/inspections/${(run.json() as { id: string }).id}`)).statusCode, 200);
    const own = (await operator.request('POST', '/api/v1/tickets', { priority: 'P3', title: 'Statements bounce', contactEmail: 'it@bank.test' })).json() as Ticket;
    assert.equal(own.tenantId, tenantId, 'an operator opens tickets for their own tenant');
    assert.equal((await operator.request('POST', `/api/v1/tickets/${own.id}/status`, { status: 'acknowledged' })).statusCode, 403);
    assert.equal((await otherOperator.request('GET', `/api/v1/tickets/${own.id}`)).statusCode, 404, "another tenant's ticket looks missing");
    const theirs = (await otherOperator.request('GET', '/api/v1/tickets')).json() as { items: Ticket[] };
    assert.ok(theirs.items.every((t) => t.tenantId !== tenantId));
    assert.equal((await auditor.request('GET', `/api/v1/tickets/${own.id}`)).statusCode, 200);
    assert.equal((await otherOperator.request('POST', '/api/v1/tickets', { priority: 'P3', title: 'x', tenantId })).statusCode, 403);
  });

  test('a ticket from report to survey: SLA deadlines, fault report PDF in Chinese, a mailed single-use survey link', async () => {
    const { store } = get();
    const created = await support.request('POST', '/api/v1/tickets', {
      priority: 'P2', title: '163.com 拒收邮件', description: '网易退信 550 blocked', tenantId, contactName: '王五', contactEmail: 'wangwu@bank.test', place: '上海',
    });
    assert.equal(created.statusCode, 201, created.body);
    const t = created.json() as Ticket;
    const createdAt = Date.parse(t.createdAt);
    assert.equal(Date.parse(t.responseDueAt) - createdAt, 15 * 60_000);
    assert.equal(Date.parse(t.resolutionDueAt) - createdAt, 48 * 3_600_000);
    assert.equal((await support.request('POST', `/api/v1/tickets/${t.id}/assign`, { assigneeId: 'engineer-li' })).statusCode, 200);
    for (const status of ['acknowledged', 'in_progress', 'resolved']) {
      const r = await support.request('POST', `/api/v1/tickets/${t.id}/status`, { status });
      assert.equal(r.statusCode, 200, r.body);
    }
    const report = await support.request('PUT', `/api/v1/tickets/${t.id}/report`, { handling: '调整网易的发送速率并申请解封', degree: '已完全解决', lessons: '新 IP 需预热' });
    assert.equal(report.statusCode, 200, report.body);
    const submitted = (await support.request('POST', `/api/v1/tickets/${t.id}/report/submit`, {})).json() as Ticket;
    assert.ok(submitted.faultReport.submittedAt && submitted.faultReport.dueAt);
    const pdf = await auditor.request('GET', `/api/v1/tickets/${t.id}/report?format=pdf`);
    assert.equal(pdf.statusCode, 200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    const text = pdfText(pdf.rawPayload).replace(/\s+/g, '');
    for (const phrase of ['故障处理报告', '客户名称', 'OpsBankops.test', '联系人及联系方式', '王五', '故障级别', '■P2', '故障申报时间', '故障受理时间', '163.com拒收邮件', '调整网易的发送速率并申请解封', '已完全解决', '新IP需预热', '客户签字（盖章）', '工程师签字']) {
      assert.ok(text.includes(phrase), `fault report PDF lacks ${phrase}`);
    }
    const html = await auditor.request('GET', `/api/v1/tickets/${t.id}/report?format=html&lang=en`);
    assert.match(html.body, /<h1>Fault handling report<\/h1>/);

    // The survey link went out through Fanout's own queue, to the contact.
    const queued = await store.db.selectFrom('delivery_recipients as r').innerJoin('delivery_messages as m', 'm.id', 'r.message_id').select(['m.body', 'r.recipient']).where('r.recipient', '=', 'wangwu@bank.test').execute();
    assert.equal(queued.length, 1);
    const mail = await simpleParser(queued[0]!.body);
    assert.match(mail.subject ?? '', /客户满意度调查/);
    const link = /https:\/\/fanout\.bank\.test\/survey\/(\S+)/.exec(mail.text ?? '')?.[1];
    assert.ok(link, mail.text);
    const form = await app.inject({ method: 'GET', url: `/survey/${link}` });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /服务满意度/);

    const forged = `${link.slice(0, -2)}${link.endsWith('AA') ? 'BB' : 'AA'}`;
    assert.equal((await app.inject({ method: 'POST', url: `/survey/${forged}`, payload: { satisfaction: 5, attitude: 5, technical: 5, effect: 5 } })).statusCode, 403);
    const surveyId = link.split('.')[0]!;
    const expired = signSurveyToken(await getPlatformSecret(store), surveyId, Date.now() - 1000);
    const late = await app.inject({ method: 'POST', url: `/survey/${expired}`, payload: { satisfaction: 5, attitude: 5, technical: 5, effect: 5 } });
    assert.equal(late.statusCode, 403);
    assert.match(late.body, /expired/);

    const answer = await app.inject({ method: 'POST', url: `/survey/${link}`, payload: { satisfaction: 4, attitude: 5, technical: 3, effect: 0, comments: '邮件延误' } });
    assert.equal(answer.statusCode, 201, answer.body);
    const survey = answer.json() as { critical: boolean; followUpTicketId: string; scores: Record<string, number> };
    assert.equal(survey.critical, true, 'a 0 is a critical incident');
    const reused = await app.inject({ method: 'POST', url: `/survey/${link}`, payload: { satisfaction: 5, attitude: 5, technical: 5, effect: 5 } });
    assert.equal(reused.statusCode, 409, 'a link works once');
    const follow = (await support.request('GET', `/api/v1/tickets/${survey.followUpTicketId}`)).json() as Ticket;
    assert.equal(follow.parentTicketId, t.id);
    assert.equal(follow.priority, 'P2');
    const after = (await support.request('GET', `/api/v1/tickets/${t.id}`)).json() as Ticket;
    assert.deepEqual(after.timeline.filter((e) => e.type.startsWith('survey')).map((e) => e.type), ['survey_sent', 'survey']);

    // Support records a phone survey for another resolved ticket; averages per engineer.
    const phone = (await support.request('POST', '/api/v1/tickets', { priority: 'P4', title: 'How to rotate DKIM' })).json() as Ticket;
    await support.request('POST', `/api/v1/tickets/${phone.id}/assign`, { assigneeId: engineerId });
    await support.request('POST', `/api/v1/tickets/${phone.id}/status`, { status: 'resolved' });
    const recorded = await support.request('POST', `/api/v1/tickets/${phone.id}/survey`, { satisfaction: 5, attitude: 5, technical: 4, effect: 5, comments: '电话回访' });
    assert.equal(recorded.statusCode, 201, recorded.body);
    assert.equal((recorded.json() as { channel: string }).channel, 'phone');
    assert.equal((await support.request('POST', `/api/v1/tickets/${phone.id}/survey`, { satisfaction: 5, attitude: 5, technical: 5, effect: 5 })).statusCode, 409);
    const stats = (await auditor.request('GET', '/api/v1/surveys/stats?groupBy=engineer')).json() as { items: { group: string; count: number; critical: number; averages: Record<string, number> }[] };
    assert.deepEqual(stats.items.map((s) => [s.group, s.count, s.critical, s.averages.technical, s.averages.effect]), [['engineer-li', 2, 1, 3.5, 2.5]]);

    const ops = (await listOperations(store.db, { objectId: t.id, limit: 100 })).items.map((e) => e.operation);
    for (const op of ['ticket.create', 'ticket.assign', 'ticket.status', 'ticket.report_update', 'ticket.report_submit']) assert.ok(ops.includes(op), `operation log lacks ${op}`);
    assert.equal((await listOperations(store.db, { operation: 'survey.record', limit: 10 })).items.length, 1);
  });
});
