import type { Actor } from '../../audit/index.ts';
import { recordOperation } from '../../audit/index.ts';
import { AppError, conflict, invalid, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { getPlatformSecret } from '../../store/platform-secret.ts';
import type { Tx } from '../../store/store.ts';
import { listUsers } from '../../users/index.ts';
import type { OpsDeps } from '../context.ts';
import { SYSTEM_ACTOR } from '../context.ts';
import { sendOpsMail } from '../mail.ts';
import type { OpsSurveyTable, OpsTicketTable } from '../tables.ts';
import { appendTimeline, createTicket, ticketRow } from '../tickets/service.ts';
import { signSurveyToken, verifySurveyToken } from './tokens.ts';

/** The seed's four dimensions (服务满意度、服务态度、技术水平、服务效果), 0–5; 0 marks a critical incident (恶性事件). */
export const SCORE_FIELDS = ['satisfaction', 'attitude', 'technical', 'effect'] as const;
export type Scores = Record<(typeof SCORE_FIELDS)[number], number>;

export interface SurveyView {
  id: string;
  ticketId: string;
  tenantId: string | null;
  engineerId: string | null;
  contactEmail: string;
  channel: string;
  createdAt: string;
  expiresAt: string;
  mailedAt: string | null;
  respondedAt: string | null;
  recordedBy: string | null;
  scores: Scores | null;
  comments: string;
  critical: boolean;
  followUpTicketId: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function surveyView(r: OpsSurveyTable): SurveyView {
  return {
    id: r.id, ticketId: r.ticket_id, tenantId: r.tenant_id, engineerId: r.engineer_id, contactEmail: r.contact_email, channel: r.channel,
    createdAt: iso(r.created_at)!, expiresAt: iso(r.expires_at)!, mailedAt: iso(r.mailed_at), respondedAt: iso(r.responded_at), recordedBy: r.recorded_by,
    scores: r.responded_at === null ? null : { satisfaction: r.satisfaction!, attitude: r.attitude!, technical: r.technical!, effect: r.effect! },
    comments: r.comments, critical: r.critical === 1, followUpTicketId: r.follow_up_ticket_id,
  };
}

export function checkScores(input: Record<string, unknown>, prefix = '/body'): { scores: Scores; comments: string } {
  const problems: { field: string; message: string }[] = [];
  const scores = {} as Scores;
  for (const f of SCORE_FIELDS) {
    const raw = input[f];
    const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 5) problems.push({ field: `${prefix}/${f}`, message: 'a whole number from 0 to 5' });
    else scores[f] = n;
  }
  const comments = input.comments ?? '';
  if (typeof comments !== 'string' || comments.length > 5000) problems.push({ field: `${prefix}/comments`, message: 'text of at most 5000 characters' });
  if (problems.length) throw invalid(problems.map((p) => `${p.field.split('/').pop()}: ${p.message}`).join('; '), problems);
  return { scores, comments: (comments as string).trim() };
}

function surveyLink(deps: OpsDeps, token: string): string {
  return `${deps.config.http.publicUrl.replace(/\/$/, '')}/survey/${token}`;
}

/**
 * After a resolution: a survey for the ticket with a signed, expiring link mailed to the
 * customer contact. Without a contact address (or mail configuration) the survey waits for
 * support to record it by phone; the timeline says which.
 */
export async function startSurvey(deps: OpsDeps, ticket: OpsTicketTable): Promise<{ survey: SurveyView; link: string }> {
  const now = deps.now();
  const secret = await getPlatformSecret(deps.store);
  const open = await deps.store.db.selectFrom('ops_surveys').selectAll().where('ticket_id', '=', ticket.id).where('responded_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
  const row: OpsSurveyTable = open ?? {
    id: newId('sv', now), ticket_id: ticket.id, tenant_id: ticket.tenant_id, engineer_id: ticket.assignee_id, contact_email: ticket.contact_email,
    channel: 'link', created_at: now, expires_at: now + Math.round(deps.config.operations.surveys.linkDays * 86_400_000), mailed_at: null, responded_at: null,
    recorded_by: null, satisfaction: null, attitude: null, technical: null, effect: null, comments: '', critical: 0, follow_up_ticket_id: null,
  };
  if (!open) await deps.store.db.insertInto('ops_surveys').values(row).execute();
  const link = surveyLink(deps, signSurveyToken(secret, row.id, row.expires_at));
  const mail = await sendOpsMail(deps, {
    to: [ticket.contact_email],
    subject: `客户满意度调查 / Satisfaction survey: ${ticket.title}`,
    text: `您好，\n\n工单 ${ticket.id}（${ticket.priority}）“${ticket.title}” 已处理完毕。请为本次服务打分（0–5 分）：\n${link}\n\nHello,\n\nticket ${ticket.id} (${ticket.priority}) "${ticket.title}" is resolved. Please rate our service (0–5):\n${link}\n\nThe link works once and expires on ${new Date(row.expires_at).toISOString()}.\n`,
  });
  if (mail.sent) await deps.store.db.updateTable('ops_surveys').set({ mailed_at: deps.now() }).where('id', '=', row.id).execute();
  await deps.store.transaction((trx) => appendTimeline(trx, ticket, { at: deps.now(), type: 'survey_sent', actor: SYSTEM_ACTOR.operator, detail: { surveyId: row.id, mail: mail.sent ? `mailed to ${ticket.contact_email}` : `not mailed: ${mail.reason}` } }));
  const fresh = await deps.store.db.selectFrom('ops_surveys').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
  return { survey: surveyView(fresh), link };
}

async function answer(deps: OpsDeps, trx: Tx, row: OpsSurveyTable, ticket: OpsTicketTable, scores: Scores, comments: string, channel: string, recordedBy: string | null, now: number): Promise<boolean> {
  const critical = SCORE_FIELDS.some((f) => scores[f] === 0) ? 1 : 0;
  // Single use: only an unanswered survey takes an answer, whoever races for it.
  const updated = await trx.updateTable('ops_surveys').set({ ...scores, comments, channel, recorded_by: recordedBy, responded_at: now, critical })
    .where('id', '=', row.id).where('responded_at', 'is', null).executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) return false;
  await appendTimeline(trx, ticket, { at: now, type: 'survey', actor: recordedBy ?? `customer:${row.contact_email}`, detail: { surveyId: row.id, channel, scores, comments, critical: critical === 1 }, event: 'ticket.survey_received' });
  return true;
}

async function followUp(deps: OpsDeps, surveyId: string, ticket: OpsTicketTable, scores: Scores): Promise<string | null> {
  if (!SCORE_FIELDS.some((f) => scores[f] === 0)) return null;
  const zeros = SCORE_FIELDS.filter((f) => scores[f] === 0).join(', ');
  const t = await createTicket(deps, SYSTEM_ACTOR, {
    priority: deps.config.operations.surveys.criticalFollowUpPriority, title: `恶性事件 / Critical incident: 0 score (${zeros}) on ticket ${ticket.id}`,
    description: `The customer scored ${zeros} 0 in the satisfaction survey of ticket ${ticket.id} ("${ticket.title}").`, tenantId: ticket.tenant_id, source: 'survey', parentTicketId: ticket.id,
    contactName: ticket.contact_name, contactEmail: ticket.contact_email, contactPhone: ticket.contact_phone, place: ticket.place,
  });
  await deps.store.db.updateTable('ops_surveys').set({ follow_up_ticket_id: t.id }).where('id', '=', surveyId).execute();
  return t.id;
}

/** The customer's answer through the mailed link: a forged, expired or used link is refused. */
export async function respondByLink(deps: OpsDeps, token: string, input: Record<string, unknown>, clientIp: string): Promise<SurveyView> {
  const secret = await getPlatformSecret(deps.store);
  const ref = verifySurveyToken(secret, token);
  if (!ref) throw new AppError('forbidden', 'this survey link is not valid');
  const now = deps.now();
  if (ref.expiresAt <= now) throw new AppError('forbidden', 'this survey link has expired');
  const { scores, comments } = checkScores(input);
  const row = await deps.store.db.selectFrom('ops_surveys').selectAll().where('id', '=', ref.id).executeTakeFirst();
  if (!row || row.expires_at !== ref.expiresAt) throw new AppError('forbidden', 'this survey link is not valid');
  if (row.responded_at !== null) throw conflict('this survey has been answered already; a link works once');
  const ticket = await ticketRow(deps.store.db, row.ticket_id);
  const ok = await deps.store.transaction(async (trx) => {
    if (!(await answer(deps, trx, row, ticket, scores, comments, 'link', null, now))) return false;
    await recordOperation(trx, { operator: `customer:${row.contact_email}`, clientIp, role: 'system', tenantId: row.tenant_id }, { operation: 'survey.respond', objectType: 'survey', objectId: row.id, description: `satisfaction survey of ticket ${row.ticket_id} answered by link`, tenantId: row.tenant_id, details: { scores } }, now);
    return true;
  });
  if (!ok) throw conflict('this survey has been answered already; a link works once');
  await followUp(deps, row.id, ticket, scores);
  return surveyView(await deps.store.db.selectFrom('ops_surveys').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow());
}

/** Support records the customer's phone answers (the seed's remote case) on their behalf. */
export async function recordPhoneSurvey(deps: OpsDeps, actor: Actor, ticketId: string, input: Record<string, unknown>, scope: string | null = null): Promise<SurveyView> {
  const { scores, comments } = checkScores(input);
  const ticket = await ticketRow(deps.store.db, ticketId, scope);
  if (ticket.resolved_at === null) throw conflict('a survey is taken after the ticket is resolved');
  const now = deps.now();
  let row = await deps.store.db.selectFrom('ops_surveys').selectAll().where('ticket_id', '=', ticketId).where('responded_at', 'is', null).executeTakeFirst();
  if (!row) {
    const answered = await deps.store.db.selectFrom('ops_surveys').select('id').where('ticket_id', '=', ticketId).executeTakeFirst();
    if (answered) throw conflict('the survey of this ticket has been answered already');
    row = {
      id: newId('sv', now), ticket_id: ticketId, tenant_id: ticket.tenant_id, engineer_id: ticket.assignee_id, contact_email: ticket.contact_email, channel: 'phone',
      created_at: now, expires_at: now, mailed_at: null, responded_at: null, recorded_by: null, satisfaction: null, attitude: null, technical: null, effect: null, comments: '', critical: 0, follow_up_ticket_id: null,
    };
    await deps.store.db.insertInto('ops_surveys').values(row).execute();
  }
  const survey = row;
  const ok = await deps.store.transaction(async (trx) => {
    if (!(await answer(deps, trx, survey, ticket, scores, comments, 'phone', actor.operator, now))) return false;
    await recordOperation(trx, actor, { operation: 'survey.record', objectType: 'survey', objectId: survey.id, description: `phone survey of ticket ${ticketId} recorded`, tenantId: ticket.tenant_id, details: { scores } }, now);
    return true;
  });
  if (!ok) throw conflict('the survey of this ticket has been answered already');
  await followUp(deps, survey.id, ticket, scores);
  return surveyView(await deps.store.db.selectFrom('ops_surveys').selectAll().where('id', '=', survey.id).executeTakeFirstOrThrow());
}

export async function surveyForToken(deps: OpsDeps, token: string): Promise<{ survey: SurveyView; ticket: OpsTicketTable } | null> {
  const ref = verifySurveyToken(await getPlatformSecret(deps.store), token);
  if (!ref) return null;
  const row = await deps.store.db.selectFrom('ops_surveys').selectAll().where('id', '=', ref.id).executeTakeFirst();
  if (!row || row.expires_at !== ref.expiresAt) return null;
  return { survey: surveyView(row), ticket: await ticketRow(deps.store.db, row.ticket_id) };
}

export interface SurveyStats {
  group: string;
  count: number;
  critical: number;
  averages: Scores & { overall: number };
}

/** Averages of answered surveys in [from, to), by engineer or by month (operations timezone). */
export async function surveyStats(deps: OpsDeps, f: { from?: number; to?: number; groupBy: 'engineer' | 'month'; tenantId?: string | null }): Promise<{ items: SurveyStats[]; total: SurveyStats }> {
  let q = deps.store.db.selectFrom('ops_surveys').select(['responded_at', 'engineer_id', 'satisfaction', 'attitude', 'technical', 'effect', 'critical']).where('responded_at', 'is not', null);
  if (f.from !== undefined) q = q.where('responded_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('responded_at', '<', f.to);
  if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
  const rows = await q.execute();
  const names = new Map((await listUsers(deps.store.db)).map((u) => [u.id, u.username]));
  const tz = deps.config.operations.tickets.timezone ?? deps.config.timezone;
  const month = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit' });
  const groups = new Map<string, typeof rows>();
  for (const r of rows) {
    const key = f.groupBy === 'engineer' ? (r.engineer_id ? names.get(r.engineer_id) ?? r.engineer_id : 'unassigned') : month.format(r.responded_at!);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const summarise = (group: string, list: typeof rows): SurveyStats => {
    const avg = (k: (typeof SCORE_FIELDS)[number]) => (list.length ? Math.round((list.reduce((n, r) => n + Number(r[k]), 0) / list.length) * 100) / 100 : 0);
    const a = { satisfaction: avg('satisfaction'), attitude: avg('attitude'), technical: avg('technical'), effect: avg('effect') };
    return { group, count: list.length, critical: list.filter((r) => r.critical === 1).length, averages: { ...a, overall: Math.round(((a.satisfaction + a.attitude + a.technical + a.effect) / 4) * 100) / 100 } };
  };
  return { items: [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => summarise(k, v)), total: summarise('all', rows) };
}

export async function surveysOfTicket(deps: OpsDeps, ticketId: string): Promise<SurveyView[]> {
  const rows = await deps.store.db.selectFrom('ops_surveys').selectAll().where('ticket_id', '=', ticketId).orderBy('created_at').execute();
  if (!rows.length) await ticketRow(deps.store.db, ticketId).catch(() => { throw notFound('ticket'); });
  return rows.map(surveyView);
}
