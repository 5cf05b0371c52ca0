export interface ConsoleUserTable {
  id: string;
  username: string;
  password_hash: string;
  /** administrator | operator | auditor | support */
  role: string;
  /** Operators are scoped to one tenant. */
  tenant_id: string | null;
  /** Sealed (core/sealed-fields.ts): the secret in force while totp_enabled is 1. */
  totp_secret: string | null;
  totp_enabled: number;
  /** The last TOTP time step accepted: a code is accepted once, and never an older one. */
  totp_last_step: number | null;
  /** Sealed: a secret being enrolled, in force only once confirmed with a code. */
  totp_pending_secret: string | null;
  /** No longer used: failed sign-ins are counted in login_throttle. */
  failed_logins: number;
  /** No longer used: locks live in login_throttle, per user name and client address. */
  locked_until: number | null;
  locale: string;
  disabled: number;
  must_change_password: number;
  created_at: number;
  updated_at: number;
}

export interface SessionTable {
  /** SHA-256 of the cookie value; the cookie itself is never stored. */
  id: string;
  user_id: string;
  csrf_token: string;
  /** 1 while the password was right but the TOTP code is still due. */
  pending_totp: number;
  client_ip: string;
  created_at: number;
  expires_at: number;
}

/** Failed sign-ins per `u:<user name>|<address>` and per `ip:<address>` (users/throttle.ts). */
export interface LoginThrottleTable {
  key: string;
  failures: number;
  window_started_at: number;
  locked_until: number | null;
  updated_at: number;
}

export interface UserTables {
  console_users: ConsoleUserTable;
  sessions: SessionTable;
  login_throttle: LoginThrottleTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends UserTables {}
}
