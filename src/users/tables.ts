export interface ConsoleUserTable {
  id: string;
  username: string;
  password_hash: string;
  /** administrator | operator | auditor | support */
  role: string;
  /** Operators are scoped to one tenant. */
  tenant_id: string | null;
  totp_secret: string | null;
  totp_enabled: number;
  failed_logins: number;
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

export interface UserTables {
  console_users: ConsoleUserTable;
  sessions: SessionTable;
}
