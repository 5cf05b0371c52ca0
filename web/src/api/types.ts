export type Role = 'administrator' | 'operator' | 'auditor' | 'support';

export interface User {
  id: string;
  username: string;
  role: Role;
  tenantId: string | null;
  totpEnabled: boolean;
  locked: boolean;
  disabled: boolean;
  locale: string;
  /** A one-time password (the first administrator): the session may do nothing else than change it. */
  mustChangePassword?: boolean;
  createdAt: string;
}

export interface Tenant {
  id: string;
  name: string;
  accountType: string;
  status: string;
  createdAt: string;
  purchased: number | null;
  used: number;
  remaining: number | null;
  domains: string[];
}

export interface Account {
  id: string;
  tenantId: string;
  name: string;
  status: string;
  sendingType: string;
  quota: number | null;
  used: number;
  remaining: number | null;
  periodKey: string | null;
  allowIps: string[];
  maxConnections: number;
  messagesPerMinute: number;
  tracking: boolean;
  hasPassword: boolean;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  name: string | null;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt?: string | null;
  key?: string;
}

export interface DnsRecord {
  type: string;
  name: string;
  value: string;
  purpose: string;
  [k: string]: unknown;
}

export interface Domain {
  id: string;
  tenantId: string;
  domain: string;
  [k: string]: unknown;
}

export interface DeliveryEvent {
  id: number;
  at: string;
  tenantId: string;
  accountId: string;
  messageId: string;
  recipientId: string;
  recipient: string;
  lane: string;
  attempt: number;
  sourceIp: string | null;
  mxHost: string | null;
  site: string | null;
  replyCode: number | null;
  enhancedStatus: string | null;
  text: string | null;
  outcome: string;
  reason: string | null;
}

export interface OperationEntry {
  id: number;
  at: string;
  operation: string;
  objectType: string;
  objectId: string | null;
  description: string;
  operator: string;
  clientIp: string;
  tenantId: string | null;
  details: unknown;
}

export interface Items<T> {
  items: T[];
}
