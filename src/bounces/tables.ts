import type { Generated } from 'kysely';

/** One address a tenant must not send to, with why and the evidence. Unique per tenant and address. */
export interface SuppressionTable {
  id: Generated<number>;
  tenant_id: string;
  /** Lower-cased address. */
  address: string;
  /** hard_bounce | complaint | unsubscribe | soft_bounce_threshold | manual */
  reason: string;
  /** The bounce reason behind it (userunknown, feedback, ...), when a bounce or complaint caused it. */
  bounce_reason: string | null;
  /** JSON: bounce event id, status, diagnostic, message and recipient ids, or who added it and why. */
  evidence: string;
  /** bounce | complaint | unsubscribe | api | cli | system */
  source: string;
  created_at: number;
}

/** Every raw message the bounce listener accepted, kept as received. */
export interface InboundMessageTable {
  id: string;
  received_at: number;
  remote_ip: string;
  mail_from: string;
  /** JSON array of the accepted RCPT TO addresses. */
  rcpt_to: string;
  size: number;
  raw: Buffer;
  /** classified | unrecognised | unparseable */
  parse_status: string;
  /** bounce | complaint | autoreply | delivery | unrecognised */
  kind: string;
  tenant_id: string | null;
  /** Short human summary of what was found, or why nothing was. */
  summary: string;
}

/** One bounce, complaint or auto-reply for one recipient, linked to what was sent when possible. */
export interface BounceEventTable {
  id: Generated<number>;
  at: number;
  inbound_id: string | null;
  tenant_id: string | null;
  message_id: string | null;
  recipient_id: string | null;
  /** Lower-cased failed (or complaining) address. */
  recipient: string;
  /** bounce | complaint | autoreply | delivery */
  kind: string;
  reason: string;
  /** Headline reason for statistics: user_unknown | mailbox_full | rejected | other. */
  headline: string;
  hard: number;
  status: string;
  reply_code: string;
  diagnostic: string;
  /** How the event was tied to the sent message: verp | message-id | headers | none. */
  linked_by: string;
}

export interface BounceTables {
  suppressions: SuppressionTable;
  inbound_messages: InboundMessageTable;
  bounce_events: BounceEventTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends BounceTables {}
}
