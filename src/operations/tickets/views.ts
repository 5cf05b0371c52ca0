import type { FanoutConfig } from '../../config/schema.ts';
import type { Executor } from '../../store/store.ts';
import { slaCalendar, workingDaysCalendar } from '../context.ts';
import type { OpsTicketTable } from '../tables.ts';
import { computeSla } from './sla.ts';
import type { ClockState, Priority, SlaTargets, StatusChange } from './sla.ts';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function slaTargets(config: FanoutConfig, priority: Priority): SlaTargets {
  const t = config.operations.tickets;
  return { responseMs: t.responseMinutes * 60_000, resolutionMs: t.resolutionHours[priority] * 3_600_000 };
}

export interface ClockView {
  targetMinutes: number;
  elapsedMinutes: number;
  pausedMinutes: number;
  state: ClockState['state'];
  dueAt: string;
  metAt: string | null;
  percent: number;
  breached: boolean;
}

function clockView(c: ClockState): ClockView {
  const min = (ms: number) => Math.round(ms / 600) / 100;
  return { targetMinutes: min(c.targetMs), elapsedMinutes: min(c.elapsedMs), pausedMinutes: min(c.pausedMs), state: c.state, dueAt: iso(c.dueAt)!, metAt: iso(c.metAt), percent: c.percent, breached: c.breached };
}

export interface TimelineEntry {
  id: number;
  at: string;
  type: string;
  actor: string;
  fromStatus: string | null;
  toStatus: string | null;
  detail: Record<string, unknown>;
}

export interface TicketView {
  id: string;
  tenantId: string | null;
  priority: Priority;
  status: string;
  title: string;
  description: string;
  assigneeId: string | null;
  contact: { name: string; email: string; phone: string };
  place: string;
  occurredAt: string;
  source: string;
  signalKey: string | null;
  signalRecoveredAt: string | null;
  parentTicketId: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  responseDueAt: string;
  resolutionDueAt: string;
  responseBreached: boolean;
  resolutionBreached: boolean;
  sla: { response: ClockView; resolution: ClockView };
  faultReport: { dueAt: string | null; submittedAt: string | null; overdue: boolean; handling: string; degree: string; lessons: string; customerOpinion: string };
  timeline?: TimelineEntry[];
}

export async function statusChanges(db: Executor, ticketIds: string[]): Promise<Map<string, StatusChange[]>> {
  const out = new Map<string, StatusChange[]>();
  if (!ticketIds.length) return out;
  const rows = await db.selectFrom('ops_ticket_timeline').select(['ticket_id', 'at', 'to_status']).where('ticket_id', 'in', ticketIds).where('to_status', 'is not', null).orderBy('id').execute();
  for (const r of rows) {
    const list = out.get(r.ticket_id) ?? [];
    list.push({ at: r.at, to: r.to_status! });
    out.set(r.ticket_id, list);
  }
  return out;
}

export function ticketView(config: FanoutConfig, row: OpsTicketTable, changes: StatusChange[], now: number): TicketView {
  const priority = row.priority as Priority;
  const sla = computeSla(changes.length ? changes : [{ at: row.created_at, to: 'open' }], row.acknowledged_at, now, slaCalendar(config), slaTargets(config, priority), config.operations.tickets.escalationPercents);
  // The fault report is due a number of working days after the (last) resolution: its own clock.
  const reportDue = row.resolved_at === null ? null : workingDaysCalendar(config).workingDaysAfter(row.resolved_at, config.operations.tickets.faultReportWorkingDays);
  return {
    id: row.id, tenantId: row.tenant_id, priority, status: row.status, title: row.title, description: row.description, assigneeId: row.assignee_id,
    contact: { name: row.contact_name, email: row.contact_email, phone: row.contact_phone }, place: row.place, occurredAt: iso(row.occurred_at)!,
    source: row.source, signalKey: row.signal_key, signalRecoveredAt: iso(row.signal_recovered_at), parentTicketId: row.parent_ticket_id,
    createdBy: row.created_by, createdAt: iso(row.created_at)!, updatedAt: iso(row.updated_at)!, acknowledgedAt: iso(row.acknowledged_at),
    resolvedAt: iso(row.resolved_at), closedAt: iso(row.closed_at),
    responseDueAt: iso(sla.response.dueAt)!, resolutionDueAt: iso(sla.resolution.dueAt)!,
    responseBreached: row.response_breached_at !== null || sla.response.breached, resolutionBreached: row.resolution_breached_at !== null || sla.resolution.breached,
    sla: { response: clockView(sla.response), resolution: clockView(sla.resolution) },
    faultReport: {
      dueAt: iso(reportDue), submittedAt: iso(row.report_submitted_at),
      overdue: reportDue !== null && (row.report_submitted_at ?? now) > reportDue,
      handling: row.handling, degree: row.degree, lessons: row.lessons, customerOpinion: row.customer_opinion,
    },
  };
}

export async function timelineOf(db: Executor, ticketId: string): Promise<TimelineEntry[]> {
  const rows = await db.selectFrom('ops_ticket_timeline').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, at: iso(r.at)!, type: r.type, actor: r.actor, fromStatus: r.from_status, toStatus: r.to_status, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}
