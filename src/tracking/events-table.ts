import type { Generated } from 'kysely';

/** Opens, clicks and unsubscribes as recipients make them. */
export interface TrackingEventTable {
  id: Generated<number>;
  at: number;
  tenant_id: string;
  /** open | click | unsubscribe */
  kind: string;
  email: string;
  message_id: string | null;
  campaign_id: string | null;
  url: string | null;
  user_agent: string | null;
  ip: string | null;
}

export interface TrackingTables {
  tracking_events: TrackingEventTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends TrackingTables {}
}
