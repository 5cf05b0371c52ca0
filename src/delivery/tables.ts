import type { ColumnType, Generated } from 'kysely';

export type Lane = 'transactional' | 'bulk';

/** One accepted message: the body is stored here once, whatever the number of recipients. */
export interface DeliveryMessageTable {
  id: string;
  tenant_id: string;
  account_id: string;
  lane: string;
  /** Envelope sender as submitted (the VERP return path is derived from it per recipient). */
  mail_from: string;
  /** Domain of mail_from, lower-cased: selects the DKIM key and the return-path domain. */
  from_domain: string;
  /**
   * The RFC 5322 message with the Received and Message-ID headers already added (body_format
   * 0), or a manifest naming parts in delivery_parts (1). Read it with queue/bodies.ts#loadBodies.
   */
  body: Buffer;
  /** 0 by default, so writers that store raw bodies need not name it. */
  body_format: ColumnType<number, number | undefined, number>;
  /** Size of the message as sent, whichever way it is stored. */
  size: number;
  /** The Message-ID header value, for support look-ups. */
  header_message_id: string | null;
  /** smtp or api. */
  source: string;
  recipient_count: number;
  created_at: number;
  /** The submitting business system's address (SMTP peer or HTTP client); null when unknown. */
  client_ip: ColumnType<string | null, string | null | undefined, string | null>;
}

/**
 * One recipient of one message: the unit the scheduler retries and the sender claims.
 * `next_attempt_at` doubles as the lease expiry while a node holds the row (see queue/claim.ts).
 */
export interface DeliveryRecipientTable {
  id: string;
  message_id: string;
  tenant_id: string;
  account_id: string;
  lane: string;
  recipient: string;
  /** Destination domain (lower-cased): with tenant_id, the scheduled queue this row belongs to. */
  domain: string;
  /** queued | delivered | failed | expired | cancelled | suppressed */
  state: string;
  attempts: number;
  first_queued_at: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** MX site once resolved: the ready queue the row joins; used to pause bulk per site. */
  site: string | null;
  last_reply_code: number | null;
  last_text: string | null;
  updated_at: number;
}

/** Every attempt and every terminal decision, as shown in the delivery log. */
export interface DeliveryEventTable {
  id: Generated<number>;
  at: number;
  tenant_id: string;
  account_id: string;
  message_id: string;
  recipient_id: string;
  recipient: string;
  lane: string;
  attempt: number;
  source_ip: string | null;
  mx_host: string | null;
  site: string | null;
  reply_code: number | null;
  enhanced_status: string | null;
  text: string | null;
  /** delivered | deferred | failed | expired | cancelled */
  outcome: string;
  /** Failure reason class (bounce vocabulary: userunknown, mailboxfull, ...); null on success. */
  reason: string | null;
}

/** Bulk traffic held back per account or per site; transactional mail ignores these. */
export interface DeliveryPauseTable {
  /** account | site */
  scope: string;
  target: string;
  created_at: number;
  operator: string;
}

/** A part of message bodies (an attachment, an unpersonalised text), stored once per tenant. */
export interface DeliveryPartTable {
  tenant_id: string;
  /** Hex SHA-256 of the content. */
  hash: string;
  size: number;
  content: Buffer;
  created_at: number;
}

export interface DeliveryTables {
  delivery_messages: DeliveryMessageTable;
  delivery_parts: DeliveryPartTable;
  delivery_recipients: DeliveryRecipientTable;
  delivery_events: DeliveryEventTable;
  delivery_pauses: DeliveryPauseTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends DeliveryTables {}
}
