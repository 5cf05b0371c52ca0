import type { Generated } from 'kysely';

export interface SendingAccountTable {
  id: string;
  tenant_id: string;
  /** SMTP AUTH user name; unique across the platform (lower-cased in name_key). */
  name: string;
  name_key: string;
  password_hash: string | null;
  /** total: one purchased volume; daily / monthly: a quota that renews each period. */
  sending_type: string;
  /** Purchased messages (recipients); null means unlimited. */
  quota: number | null;
  used: number;
  /** Bytes the account may have accepted for delivery in the period (size × recipients); null: unlimited. */
  quota_bytes: number | null;
  used_bytes: number;
  /** The period `used` counts for (YYYY-MM-DD or YYYY-MM), null for total quotas. */
  period_key: string | null;
  /** Highest quota alert raised in the current period: 0, 90 or 100. */
  alert_level: number;
  status: string;
  /** JSON array of CIDRs allowed to submit without AUTH. */
  allow_ips: string;
  max_connections: number;
  messages_per_minute: number;
  tracking: number;
  created_at: number;
  updated_at: number;
}

export interface ApiKeyTable {
  id: string;
  tenant_id: string;
  account_id: string;
  /** Public prefix, shown in lists and used to find the key. */
  prefix: string;
  /** SHA-256 of the whole key: keys are 256-bit random, so a slow hash adds nothing. */
  key_hash: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface QuotaAlertTable {
  id: Generated<number>;
  tenant_id: string;
  account_id: string;
  level: number;
  used: number;
  quota: number;
  period_key: string | null;
  at: number;
}

export interface AccountTables {
  sending_accounts: SendingAccountTable;
  api_keys: ApiKeyTable;
  quota_alerts: QuotaAlertTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends AccountTables {}
}
