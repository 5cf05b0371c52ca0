import os from 'node:os';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { forbidden, notFound } from '../core/errors.ts';
import type { RouteModule } from '../http/app.ts';
import { scopeOf } from '../http/access.ts';
import { actorOf } from '../http/auth.ts';
import { closed, IdParams } from '../http/schemas.ts';
import type { Store } from '../store/store.ts';
import type { FanoutConfig } from '../config/schema.ts';
import { getTenant } from '../tenants/service.ts';
import type { OpsDeps } from './context.ts';
import { osDescription } from './inspections/checks/system.ts';
import { checkSeries, inspectionView, listInspections } from './inspections/history.ts';
import { runInspection } from './inspections/runner.ts';
import { listNodes, staleAfterMs } from './nodes.ts';
import { faultDocument } from './reports/fault-report.ts';
import { renderHtml } from './reports/html.ts';
import { inspectionDocument } from './reports/inspection-report.ts';
import type { ReportDocument } from './reports/model.ts';
import { renderPdf, reportFont } from './reports/pdf.ts';
import { recordPhoneSurvey, startSurvey, surveyStats, surveysOfTicket } from './surveys/service.ts';
import { ticketEventsAfter } from './tickets/events.ts';
import { assignTicket, changeStatus, commentTicket, createTicket, listTickets, updateFaultReport, viewTicket } from './tickets/service.ts';
import { surveyPublicRoutes } from './surveys/public-routes.ts';

const READ = ['administrator', 'support', 'auditor'] as const;
const WORK = ['administrator', 'support'] as const;

export function requestDeps(store: Store, config: FanoutConfig): OpsDeps {
  return { store, config, now: Date.now, nodeId: process.env.FANOUT_NODE_ID ?? os.hostname() };
}

const ReportQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('pdf')], { default: 'html' })),
  lang: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')], { default: 'zh-CN' })),
}, closed);
const InspectionBody = Type.Object({ kind: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('light')], { default: 'full' })) }, closed);
const InspectionList = Type.Object({
  kind: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('light')])),
  from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })),
  before: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
}, closed);
const SeriesQuery = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 64 }), subject: Type.Optional(Type.String({ maxLength: 255 })),
  from: Type.String({ format: 'date-time' }), to: Type.Optional(Type.String({ format: 'date-time' })),
}, closed);
const Priority = Type.Union([Type.Literal('P1'), Type.Literal('P2'), Type.Literal('P3'), Type.Literal('P4')]);
const Status = Type.Union(['open', 'acknowledged', 'in_progress', 'waiting_customer', 'resolved', 'closed'].map((s) => Type.Literal(s)));
const TicketBody = Type.Object({
  priority: Priority, title: Type.String({ minLength: 1, maxLength: 300 }), description: Type.Optional(Type.String({ maxLength: 20_000 })),
  tenantId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  contactName: Type.Optional(Type.String({ maxLength: 200 })), contactEmail: Type.Optional(Type.String({ maxLength: 320, format: 'email' })),
  contactPhone: Type.Optional(Type.String({ maxLength: 64 })), place: Type.Optional(Type.String({ maxLength: 300 })),
  occurredAt: Type.Optional(Type.String({ format: 'date-time' })),
}, closed);
const TicketList = Type.Object({
  status: Type.Optional(Status), priority: Type.Optional(Priority), open: Type.Optional(Type.Boolean()),
  assigneeId: Type.Optional(Type.String({ maxLength: 64 })), tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  before: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
}, closed);
const StatusBody = Type.Object({ status: Status, note: Type.Optional(Type.String({ maxLength: 20_000 })) }, closed);
const AssignBody = Type.Object({ assigneeId: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]) }, closed);
const CommentBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: 20_000 }) }, closed);
const ReportBody = Type.Object({
  handling: Type.Optional(Type.String({ maxLength: 20_000 })), degree: Type.Optional(Type.String({ maxLength: 2000 })),
  lessons: Type.Optional(Type.String({ maxLength: 20_000 })), customerOpinion: Type.Optional(Type.String({ maxLength: 20_000 })),
  place: Type.Optional(Type.String({ maxLength: 300 })), occurredAt: Type.Optional(Type.String({ format: 'date-time' })),
}, closed);
const Score = Type.Integer({ minimum: 0, maximum: 5 });
export const SurveyBody = Type.Object({ satisfaction: Score, attitude: Score, technical: Score, effect: Score, comments: Type.Optional(Type.String({ maxLength: 5000 })) }, closed);
const EventsQuery = Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), ticketId: Type.Optional(Type.String({ maxLength: 64 })) }, closed);
const StatsQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })),
  groupBy: Type.Optional(Type.Union([Type.Literal('engineer'), Type.Literal('month')], { default: 'engineer' })),
}, closed);

async function sendReport(reply: FastifyReply, doc: ReportDocument, format: 'html' | 'pdf' | undefined, config: FanoutConfig, name: string): Promise<FastifyReply> {
  if (format === 'pdf') {
    const pdf = await renderPdf(doc, reportFont(config.operations.reports));
    return reply.type('application/pdf').header('content-disposition', `inline; filename="${name}.pdf"`).send(pdf);
  }
  return reply.type('text/html; charset=utf-8').send(renderHtml(doc));
}


export const operationsRoutes: RouteModule = (app, { store, config }) => {
  const deps = requestDeps(store, config);
  const tags = ['operations'];

  app.post<{ Body: Static<typeof InspectionBody> }>('/inspections', { config: { access: { roles: WORK } }, schema: { tags, summary: 'Run a health inspection now (巡检)', body: InspectionBody } }, async (req, reply) => {
    const { report, signals } = await runInspection(deps, { kind: req.body?.kind ?? 'full', trigger: 'manual', actor: actorOf(req) });
    return reply.code(201).send({ ...report, signals });
  });
  app.get<{ Querystring: Static<typeof InspectionList> }>('/inspections', { config: { access: { roles: READ } }, schema: { tags, summary: 'Inspection history, newest first', querystring: InspectionList } }, async (req) => {
    const q = req.query;
    return listInspections(store.db, { kind: q.kind, from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined, before: q.before, limit: q.limit });
  });
  app.get<{ Querystring: Static<typeof SeriesQuery> }>('/inspections/series', { config: { access: { roles: READ } }, schema: { tags, summary: "One check's values over time (history chart)", querystring: SeriesQuery } }, async (req) => {
    const q = req.query;
    return { key: q.key, subject: q.subject ?? null, points: await checkSeries(store.db, q.key, q.subject ?? null, Date.parse(q.from), q.to ? Date.parse(q.to) : Date.now() + 1) };
  });
  app.get<{ Params: Static<typeof IdParams> }>('/inspections/:id', { config: { access: { roles: READ } }, schema: { tags, summary: 'One inspection with its checks and changes', params: IdParams } }, async (req) => {
    const r = await inspectionView(store.db, req.params.id);
    if (!r) throw notFound('inspection');
    return r;
  });
  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ReportQuery> }>('/inspections/:id/report', { config: { access: { roles: READ } }, schema: { tags, summary: 'The inspection report (巡检报告), HTML or PDF, zh-CN or en', params: IdParams, querystring: ReportQuery } }, async (req, reply) => {
    const report = await inspectionView(store.db, req.params.id);
    if (!report) throw notFound('inspection');
    const nodes = await listNodes(store.db, Date.parse(report.finishedAt), staleAfterMs(deps));
    const doc = inspectionDocument(config, { report, nodes, os: await osDescription().catch(() => process.platform), engine: store.engine }, req.query.lang ?? 'zh-CN');
    return sendReport(reply, doc, req.query.format, config, `inspection-${report.id}`);
  });
  app.get('/operations/nodes', { config: { access: { roles: READ } }, schema: { tags, summary: 'Nodes seen, with their roles and heartbeat' } }, async () => {
    return { items: await listNodes(store.db, Date.now(), staleAfterMs(deps)) };
  });

  app.post<{ Body: Static<typeof TicketBody> }>('/tickets', { config: { access: { roles: [...WORK, 'operator'], tenant: 'caller' } }, schema: { tags, summary: 'Open a fault ticket (P1–P4); answers its response and resolution deadlines', body: TicketBody } }, async (req, reply) => {
    const scope = scopeOf(req);
    if (scope !== null && req.body.tenantId && req.body.tenantId !== scope) throw forbidden('tickets of another tenant cannot be opened');
    const b = req.body;
    const view = await createTicket(deps, actorOf(req), { ...b, tenantId: scope ?? b.tenantId ?? null, occurredAt: b.occurredAt ? Date.parse(b.occurredAt) : undefined });
    return reply.code(201).send(view);
  });
  app.get<{ Querystring: Static<typeof TicketList> }>('/tickets', { config: { access: { roles: [...READ, 'operator'], tenant: 'caller' } }, schema: { tags, summary: 'Tickets, newest first, with their SLA clocks', querystring: TicketList } }, async (req) => {
    const q = req.query;
    return listTickets(deps, { ...q, tenantId: scopeOf(req) ?? q.tenantId });
  });
  app.get<{ Querystring: Static<typeof EventsQuery> }>('/tickets/events', { config: { access: { roles: [...READ, 'operator'], tenant: 'caller' } }, schema: { tags, summary: 'ticket.* events after a cursor, oldest first (for the webhook outbox and integrations)', querystring: EventsQuery } }, async (req) => {
    const items = await ticketEventsAfter(store.db, req.query.after ?? 0, req.query.limit ?? 100, { ticketId: req.query.ticketId, tenantId: scopeOf(req) });
    return { items, next: items.length ? items[items.length - 1]!.id : req.query.after ?? 0 };
  });
  app.get<{ Params: Static<typeof IdParams> }>('/tickets/:id', { config: { access: { roles: [...READ, 'operator'], tenant: 'caller' } }, schema: { tags, summary: 'A ticket with its timeline and clocks', params: IdParams } }, async (req) => {
    return { ...(await viewTicket(deps, req.params.id, scopeOf(req))), surveys: await surveysOfTicket(deps, req.params.id) };
  });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof StatusBody> }>('/tickets/:id/status', { config: { access: { roles: WORK } }, schema: { tags, summary: 'Acknowledge, work, wait for the customer, resolve, close or reopen', params: IdParams, body: StatusBody } }, async (req) => {
    const { after } = await changeStatus(deps, actorOf(req), req.params.id, req.body.status, req.body.note);
    if (req.body.status === 'resolved') await startSurvey(deps, after);
    return viewTicket(deps, req.params.id);
  });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof AssignBody> }>('/tickets/:id/assign', { config: { access: { roles: WORK } }, schema: { tags, summary: 'Assign to a support engineer or administrator (null unassigns)', params: IdParams, body: AssignBody } }, async (req) => {
    await assignTicket(deps, actorOf(req), req.params.id, req.body.assigneeId);
    return viewTicket(deps, req.params.id);
  });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof CommentBody> }>('/tickets/:id/comments', { config: { access: { roles: [...WORK, 'operator'], tenant: 'caller' } }, schema: { tags, summary: 'Add a note to the timeline', params: IdParams, body: CommentBody } }, async (req, reply) => {
    await commentTicket(deps, actorOf(req), req.params.id, req.body.text, scopeOf(req));
    return reply.code(201).send(await viewTicket(deps, req.params.id, scopeOf(req)));
  });
  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof ReportBody> }>('/tickets/:id/report', { config: { access: { roles: WORK } }, schema: { tags, summary: 'Fill in the fault-handling report (故障处理报告)', params: IdParams, body: ReportBody } }, async (req) => {
    await updateFaultReport(deps, actorOf(req), req.params.id, req.body, false);
    return viewTicket(deps, req.params.id);
  });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ReportBody> }>('/tickets/:id/report/submit', { config: { access: { roles: WORK } }, schema: { tags, summary: 'Hand the fault report over (stops its 3-working-day clock)', params: IdParams, body: ReportBody } }, async (req) => {
    await updateFaultReport(deps, actorOf(req), req.params.id, req.body ?? {}, true);
    return viewTicket(deps, req.params.id);
  });
  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ReportQuery> }>('/tickets/:id/report', { config: { access: { roles: [...READ, 'operator'], tenant: 'caller' } }, schema: { tags, summary: 'The fault-handling report, HTML or PDF, zh-CN or en', params: IdParams, querystring: ReportQuery } }, async (req, reply) => {
    const ticket = await viewTicket(deps, req.params.id, scopeOf(req));
    const customerName = ticket.tenantId ? (await getTenant(store.db, ticket.tenantId)).name : config.operations.customer.name;
    const doc = faultDocument(config, { ticket, customerName, surveys: await surveysOfTicket(deps, ticket.id) }, req.query.lang ?? 'zh-CN');
    return sendReport(reply, doc, req.query.format, config, `fault-report-${ticket.id}`);
  });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof SurveyBody> }>('/tickets/:id/survey', { config: { access: { roles: WORK } }, schema: { tags, summary: "Record the customer's phone survey on their behalf", params: IdParams, body: SurveyBody } }, async (req, reply) => {
    return reply.code(201).send(await recordPhoneSurvey(deps, actorOf(req), req.params.id, req.body));
  });
  app.get<{ Querystring: Static<typeof StatsQuery> }>('/surveys/stats', { config: { access: { roles: [...READ, 'operator'], tenant: 'caller' } }, schema: { tags, summary: 'Satisfaction averages per engineer or month', querystring: StatsQuery } }, async (req) => {
    const q = req.query;
    return surveyStats(deps, { from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined, groupBy: q.groupBy ?? 'engineer', tenantId: scopeOf(req) });
  });
};

/** The customer's survey page, reached from the mailed link (outside /api/v1, no login). */
export const operationsPublicRoutes: RouteModule = (app, { store, config }) => surveyPublicRoutes(app, requestDeps(store, config));
