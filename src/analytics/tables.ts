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

export interface AnalyticsTables {
  stats_hourly: StatsHourlyTable;
  stats_daily: StatsDailyTable;
}
