/** One counter of the sending statistics: how many events of one kind fell into one bucket. */
interface RollupDimensions {
  tenant_id: string;
  account_id: string;
  /** The business system that submitted the message ('' when unknown). */
  client_ip: string;
  /** The egress address the attempt left from ('' before any attempt). */
  source_ip: string;
  sender_domain: string;
  recipient_domain: string;
  /** submitted | delivered | deferred | failed | bounced | complained | suppressed | cancelled */
  outcome: string;
  /** The bounce vocabulary's reason for failures, bounces and deferrals; '' otherwise. */
  reason: string;
  n: number;
}

export interface StatsHourlyTable extends RollupDimensions {
  /** Start of the UTC hour, epoch milliseconds. */
  hour: number;
}

export interface StatsDailyTable extends RollupDimensions {
  /** YYYY-MM-DD in the platform time zone. */
  day: string;
}

/** A background export of the delivery log. */
export interface AnalyticsExportTable {
  id: string;
  /** The scope of whoever asked: their tenant (and account for API keys), or null for platform roles. */
  tenant_id: string | null;
  account_id: string | null;
  operator: string;
  /** The delivery-log filters, JSON. */
  filters: string;
  /** csv | xlsx */
  format: string;
  /** running | done | failed */
  status: string;
  rows: number;
  /** 0..1: the share of the time range written so far (the log is read newest first). */
  progress: number;
  bytes: number;
  error: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface AnalyticsTables {
  stats_hourly: StatsHourlyTable;
  stats_daily: StatsDailyTable;
  analytics_exports: AnalyticsExportTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends AnalyticsTables {}
}
