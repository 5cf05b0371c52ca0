/**
 * State every node of a cluster shares through the store, so that what one node decides holds
 * for all: scheduled jobs run once per cluster, connection slots and message rates per
 * destination, a destination's back-off, and counters such as lock-outs.
 */

/** A job run once per period by whichever node claims it first (see jobs.ts). */
export interface ClusterJobTable {
  name: string;
  owner: string | null;
  lease_expires_at: number | null;
  last_run_at: number | null;
}

/** One connection slot of a limited key (source IP + MX site): held by a node until it expires. */
export interface ClusterSlotTable {
  key: string;
  slot: number;
  owner: string | null;
  expires_at: number;
}

/** GCRA state of one rate-limited key: the theoretical arrival time of the next message. */
export interface ClusterRateTable {
  key: string;
  tat: number;
}

/** Back-off of one destination (source IP + MX site) started by throttling replies at any node. */
export interface ClusterBackoffTable {
  key: string;
  /** normal | slowed | suspended */
  state: string;
  /** Slowed message rate (per minute) and connection count every node applies. */
  per_minute: number;
  connections: number;
  suspended_until: number;
  reason: string | null;
  /** A node's change counts only if newer than what is stored. */
  updated_at: number;
  updated_by: string;
}

/** A counter with a window: failed logins, requests per minute (key → count until expires_at). */
export interface ClusterCounterTable {
  key: string;
  count: number;
  expires_at: number;
}

export interface ClusterTables {
  cluster_jobs: ClusterJobTable;
  cluster_slots: ClusterSlotTable;
  cluster_rates: ClusterRateTable;
  cluster_backoff: ClusterBackoffTable;
  cluster_counters: ClusterCounterTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends ClusterTables {}
}
