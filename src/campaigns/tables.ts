/** A stored template: Liquid subject/HTML/text, or MJML for the layout. */
export interface TemplateTable {
  id: string;
  tenant_id: string;
  name: string;
  subject: string;
  html: string | null;
  text: string | null;
  mjml: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface CampaignTable {
  id: string;
  tenant_id: string;
  account_id: string;
  name: string;
  list_id: string;
  template_id: string;
  from_address: string;
  /** JSON object: attribute name → required value (all must match). */
  filter: string;
  /** draft | pending_approval | approved | running | paused | completed | cancelled */
  status: string;
  scheduled_at: number | null;
  timezone: string;
  tracking: number;
  created_by: string;
  created_by_name: string;
  submitted_at: number | null;
  approved_by: string | null;
  approved_by_name: string | null;
  approved_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  /** Recipients frozen at start. */
  total: number;
  /** Keyset checkpoint: the highest subscriber id already handed to the queue. */
  checkpoint: number;
  enqueued: number;
  skipped: number;
  /** Why the campaign stopped by itself (quota, missing domain). */
  note: string | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
  updated_at: number;
}

/** The recipient set, frozen when the campaign starts; the row keeps what became of each. */
export interface CampaignRecipientTable {
  campaign_id: string;
  subscriber_id: number;
  email: string;
  /** queued | suppressed | skipped (unsubscribed since the start) */
  state: string | null;
  message_id: string | null;
}

export interface CampaignTables {
  templates: TemplateTable;
  campaigns: CampaignTable;
  campaign_recipients: CampaignRecipientTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends CampaignTables {}
}
