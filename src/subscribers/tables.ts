import type { Generated } from 'kysely';

export type MemberStatus = 'subscribed' | 'unconfirmed' | 'unsubscribed' | 'bounced' | 'complained';
export const MEMBER_STATUSES: readonly MemberStatus[] = ['subscribed', 'unconfirmed', 'unsubscribed', 'bounced', 'complained'];

export interface SubscriberListTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  /** 1: subscriptions through the API or hosted form stay unconfirmed until the mailed link is clicked. */
  double_opt_in: number;
  /** 1: the hosted subscribe form at /s/<list id> accepts sign-ups. */
  form_enabled: number;
  /** The sending account and From address of the double opt-in confirmation mail. */
  sender_account_id: string | null;
  sender_from: string | null;
  created_at: number;
  updated_at: number;
}

/** One address of one tenant, whatever the lists it is on. */
export interface SubscriberTable {
  /** Integer so campaigns can walk a list in keyset batches. */
  id: Generated<number>;
  tenant_id: string;
  /** Trimmed and lower-cased; unique per tenant. */
  email: string;
  name: string | null;
  /** JSON object of custom attributes (template variables, campaign filters). */
  attributes: string;
  /** The import that last wrote this row: tells a repeated address within one file from an existing one. */
  import_id: string | null;
  created_at: number;
  updated_at: number;
}

/** A subscriber's status on one list. */
export interface ListMemberTable {
  list_id: string;
  subscriber_id: number;
  tenant_id: string;
  status: MemberStatus;
  /** import, api, form, console. */
  source: string;
  created_at: number;
  updated_at: number;
  confirmed_at: number | null;
  unsubscribed_at: number | null;
}

/** One import run, its live progress and its outcome (per-line errors capped). */
export interface SubscriberImportTable {
  id: string;
  tenant_id: string;
  list_id: string;
  format: string;
  file_name: string | null;
  /**
   * pending (made, waiting for its file), running, completed, failed (resumable from
   * checkpoint_line with the same file), discarded.
   */
  status: ImportStatus;
  rows_read: number;
  imported: number;
  updated: number;
  duplicates: number;
  error_count: number;
  /** JSON array of { line, reason } for the first errors. */
  errors: string;
  /** Why a whole file was refused, or what stopped the run. */
  message: string | null;
  created_by: string;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
  /** The status given to addresses new on the list (subscribed or unconfirmed). */
  new_status: MemberStatus;
  /** Every record up to this line of the file is committed: a resume starts after it. */
  checkpoint_line: number;
  /** The uploaded file kept in the data folder while the import may still need it. */
  file_path: string | null;
  file_bytes: number | null;
  /** A resume must be given the same file. */
  file_sha256: string | null;
  /** The node working the import, until lease_expires_at (renewed with every batch). */
  lease_owner: string | null;
  lease_expires_at: number | null;
}

export type ImportStatus = 'pending' | 'running' | 'completed' | 'failed' | 'discarded';

export interface SubscriberTables {
  subscriber_lists: SubscriberListTable;
  subscribers: SubscriberTable;
  list_members: ListMemberTable;
  subscriber_imports: SubscriberImportTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends SubscriberTables {}
}
