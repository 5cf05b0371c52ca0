/**
 * The operations API (src/operations/routes.ts): inspections, fault tickets with SLA clocks,
 * fault-handling reports and satisfaction surveys, as the console reads them.
 */
export type CheckStatus = 'ok' | 'warning' | 'error' | 'unavailable';
export type InspectionKind = 'full' | 'light';
export const CHECK_STATUSES: CheckStatus[] = ['ok', 'warning', 'error', 'unavailable'];
export const CHECK_CATEGORIES = ['fanout', 'services', 'queue', 'hardware', 'storage', 'network', 'dns', 'security'] as const;

export interface Check {
  key: string;
  subject: string | null;
  category: (typeof CHECK_CATEGORIES)[number];
  status: CheckStatus;
  value: unknown;
  threshold: unknown;
  message: string;
  numeric?: number | null;
}

export interface CheckChange {
  key: string;
  subject: string | null;
  from: CheckStatus | null;
  to: CheckStatus | null;
  message: string;
}

export interface InspectionSummary {
  id: string;
  kind: InspectionKind;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  status: Exclude<CheckStatus, 'unavailable'>;
  counts: Record<CheckStatus, number>;
  changes: number;
}

export interface Inspection extends Omit<InspectionSummary, 'changes'> {
  nodeId: string;
  operator: string;
  previousId: string | null;
  checks: Check[];
  changes: CheckChange[];
}

export interface SeriesPoint {
  at: string;
  inspectionId: string;
  status: CheckStatus;
  numeric: number | null;
}

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const TICKET_STATUSES = ['open', 'acknowledged', 'in_progress', 'waiting_customer', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** The service's state machine (src/operations/tickets/sla.ts); resolved/closed → open is a reopen. */
export const TRANSITIONS: Record<TicketStatus, TicketStatus[]> = {
  open: ['acknowledged', 'in_progress', 'resolved'],
  acknowledged: ['in_progress', 'waiting_customer', 'resolved'],
  in_progress: ['waiting_customer', 'resolved'],
  waiting_customer: ['in_progress', 'resolved'],
  resolved: ['closed', 'open'],
  closed: ['open'],
};

export interface Clock {
  targetMinutes: number;
  elapsedMinutes: number;
  pausedMinutes: number;
  state: 'running' | 'paused' | 'stopped';
  dueAt: string;
  metAt: string | null;
  percent: number;
  breached: boolean;
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

export interface Survey {
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
  scores: { satisfaction: number; attitude: number; technical: number; effect: number } | null;
  comments: string;
  critical: boolean;
  followUpTicketId: string | null;
}

export interface Ticket {
  id: string;
  tenantId: string | null;
  priority: Priority;
  status: TicketStatus;
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
  sla: { response: Clock; resolution: Clock };
  faultReport: { dueAt: string | null; submittedAt: string | null; overdue: boolean; handling: string; degree: string; lessons: string; customerOpinion: string };
  timeline?: TimelineEntry[];
  surveys?: Survey[];
}

export interface SurveyStats {
  group: string;
  count: number;
  critical: number;
  averages: { satisfaction: number; attitude: number; technical: number; effect: number; overall: number };
}

export const SCORE_FIELDS = ['satisfaction', 'attitude', 'technical', 'effect'] as const;
