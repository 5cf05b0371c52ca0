import type { Generated } from 'kysely';

/**
 * One archived message: the bytes as signed and handed to the wire, kept until `expires_at`
 * (stamped when archived from the tenant's retention policy). When retention or an approved
 * deletion removes the body, the row stays as a tombstone (body null, `removed_*` set) so the
 * daily digests that cover it still verify.
 */
export interface ArchiveMessageTable {
  id: Generated<number>;
  tenant_id: string;
  account_id: string;
  lane: string;
  /** The delivery message id (msg_...). */
  message_id: string;
  /** The Message-ID header without angle brackets. */
  header_message_id: string | null;
  mail_from: string;
  /** The From header's address, lower-cased. */
  sender: string;
  subject: string;
  /** `,tag1,tag2,` from X-Fanout-Tag, so one tag is a LIKE '%,tag,%' match. */
  tags: string;
  sent_at: number;
  archived_at: number;
  expires_at: number;
  /** UTC day of archived_at (YYYY-MM-DD): which daily digest covers the row. */
  day: string;
  size: number;
  /** Hex SHA-256 of the archived bytes. */
  sha256: string;
  body: Buffer | null;
  /** Subject, sender and the text of the message: what full-text search reads. */
  search_text: string | null;
  removed_at: number | null;
  /** expired | deleted */
  removed_reason: string | null;
}

export interface ArchiveRecipientTable {
  archive_id: number;
  tenant_id: string;
  recipient: string;
  sent_at: number;
}

/** Messages signed by a sender and not archived yet: the sender's prefix (DKIM-Signature) joins the stored body. */
export interface ArchivePendingTable {
  message_id: string;
  /** The bytes the signer put before the stored message, or the whole message when `whole` is 1. */
  prefix: Buffer;
  whole: number;
  signed_at: number;
}

/** The chained daily digest: SHA-256 over the day's (id, hash) list, linked to the day before. */
export interface ArchiveDigestTable {
  day: string;
  count: number;
  root: string;
  prev_digest: string;
  digest: string;
  created_at: number;
}

export interface ArchivePolicyTable {
  tenant_id: string;
  default_days: number;
  /** JSON: [{account?, lane?, tag?, days}], first match wins. */
  rules: string;
  updated_at: number;
  updated_by: string;
}

export interface ArchiveHoldTable {
  id: string;
  tenant_id: string;
  /** address | tenant | search */
  kind: string;
  /** The address, or the search as JSON; empty for a tenant hold. */
  value: string;
  reason: string;
  created_by: string;
  created_at: number;
  released_at: number | null;
  released_by: string | null;
}

export interface ArchiveDeletionTable {
  id: string;
  tenant_id: string;
  archive_id: number;
  reason: string;
  requested_by: string;
  /** The requesting user's id: the approver must be someone else. */
  requested_by_user: string;
  requested_at: number;
  /** pending | approved | rejected */
  status: string;
  decided_by: string | null;
  decided_at: number | null;
}

export interface ArchiveTables {
  archive_messages: ArchiveMessageTable;
  archive_recipients: ArchiveRecipientTable;
  archive_pending: ArchivePendingTable;
  archive_digests: ArchiveDigestTable;
  archive_policies: ArchivePolicyTable;
  archive_holds: ArchiveHoldTable;
  archive_deletions: ArchiveDeletionTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends ArchiveTables {}
}
