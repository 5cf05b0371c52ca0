import type { Generated } from 'kysely';

/** Each running node's heartbeat: the nodes seen, their roles, and whether they stopped cleanly. */
export interface OpsNodeTable {
  node_id: string;
  hostname: string;
  /** JSON array of the roles running there (http, smtp, bounce, sender). */
  roles: string;
  os: string;
  version: string;
  started_at: number;
  last_seen_at: number;
  stopped_at: number | null;
}

/** Cluster-wide jobs (full and light inspections, escalations): who runs one now and when it last ran. */
export interface OpsScheduleTable {
  name: string;
  owner: string | null;
  lease_expires_at: number | null;
  last_run_at: number | null;
}

export interface OpsInspectionTable {
  id: string;
  /** full | light */
  kind: string;
  /** manual | schedule | cli */
  trigger: string;
  started_at: number;
  finished_at: number;
  /** ok | warning | error: the worst check (unavailable does not count). */
  status: string;
  node_id: string;
  operator: string;
  previous_id: string | null;
  /** JSON: what changed since the previous inspection of the same kind. */
  changes: string;
}

export interface OpsInspectionCheckTable {
  id: Generated<number>;
  inspection_id: string;
  position: number;
  key: string;
  /** The sending domain, source address or zone a per-item check is about. */
  subject: string | null;
  category: string;
  status: string;
  /** JSON. */
  value: string;
  /** JSON. */
  threshold: string;
  message: string;
  /** The value as one number where it has one (history charts). */
  numeric: number | null;
}

export interface OpsProbeTable {
  token: string;
  sent_at: number;
  received_at: number | null;
  node_id: string;
  /** pass | fail | none | temperror: DKIM as verified on arrival. */
  dkim: string | null;
  detail: string | null;
}

export interface OpsTicketTable {
  id: string;
  tenant_id: string | null;
  priority: string;
  /** open | acknowledged | in_progress | waiting_customer | resolved | closed */
  status: string;
  title: string;
  description: string;
  assignee_id: string | null;
  contact_name: string;
  contact_email: string;
  contact_phone: string;
  place: string;
  occurred_at: number;
  /** manual | monitor | survey */
  source: string;
  /** The monitor signal that opened it (dedup key); set for monitor tickets. */
  signal_key: string | null;
  /** Equal to signal_key while the ticket is open, null after: unique, so one open ticket per signal. */
  open_signal_key: string | null;
  signal_recovered_at: number | null;
  parent_ticket_id: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
  acknowledged_at: number | null;
  resolved_at: number | null;
  closed_at: number | null;
  response_breached_at: number | null;
  resolution_breached_at: number | null;
  /** 故障处理报告 fields. */
  handling: string;
  degree: string;
  lessons: string;
  customer_opinion: string;
  report_submitted_at: number | null;
}

/** The append-only timeline of a ticket: every state change, note, escalation. */
export interface OpsTicketTimelineTable {
  id: Generated<number>;
  ticket_id: string;
  at: number;
  type: string;
  actor: string;
  from_status: string | null;
  to_status: string | null;
  /** JSON. */
  detail: string;
}

/**
 * `ticket.*` events, written in the same transaction as the change they describe; read in id
 * order by whatever publishes them (the webhook outbox). Nothing here is ever updated.
 */
export interface OpsTicketEventTable {
  id: Generated<number>;
  at: number;
  ticket_id: string;
  tenant_id: string | null;
  type: string;
  /** JSON. */
  payload: string;
}

export interface OpsSurveyTable {
  id: string;
  ticket_id: string;
  tenant_id: string | null;
  engineer_id: string | null;
  contact_email: string;
  /** link | phone */
  channel: string;
  created_at: number;
  expires_at: number;
  mailed_at: number | null;
  responded_at: number | null;
  recorded_by: string | null;
  satisfaction: number | null;
  attitude: number | null;
  technical: number | null;
  effect: number | null;
  comments: string;
  critical: number;
  follow_up_ticket_id: string | null;
}

export interface OperationsTables {
  ops_nodes: OpsNodeTable;
  ops_schedule: OpsScheduleTable;
  ops_inspections: OpsInspectionTable;
  ops_inspection_checks: OpsInspectionCheckTable;
  ops_probes: OpsProbeTable;
  ops_tickets: OpsTicketTable;
  ops_ticket_timeline: OpsTicketTimelineTable;
  ops_ticket_events: OpsTicketEventTable;
  ops_surveys: OpsSurveyTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends OperationsTables {}
}
