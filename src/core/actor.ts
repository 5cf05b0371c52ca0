/** The console roles; API keys act as `account`, the server itself as `system`. */
export const ROLES = ['administrator', 'operator', 'auditor', 'support'] as const;
export type Role = (typeof ROLES)[number];

/** Who did something: what the operation log records, and what services check permissions on. */
export interface Actor {
  /** Shown as 操作人: a user name, `apikey:<prefix>` or `cli:<os user>`. */
  operator: string;
  clientIp: string;
  userId?: string | null;
  role: 'administrator' | 'operator' | 'auditor' | 'support' | 'account' | 'system';
  /** Set for actors confined to one tenant (operators, API keys). */
  tenantId?: string | null;
  /** Set for API keys: the sending account the key belongs to. */
  accountId?: string | null;
}
