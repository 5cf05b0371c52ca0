import type { Generated } from 'kysely';
import type { AuditTables } from '../audit/tables.ts';
import type { TenantTables } from '../tenants/tables.ts';
import type { AccountTables } from '../accounts/tables.ts';
import type { DomainTables } from '../domains/tables.ts';
import type { UserTables } from '../users/tables.ts';
import type { MessageApiTables } from '../messages/tables.ts';
import type { TrackingTables } from '../tracking/events-table.ts';
import type { CampaignTables } from '../campaigns/tables.ts';
import type { DeliveryTables } from '../delivery/tables.ts';
import type { SubscriberTables } from '../subscribers/tables.ts';
import type { BounceTables } from '../bounces/tables.ts';
import type { OperationsTables } from '../operations/tables.ts';
import type { AnalyticsTables } from '../analytics/tables.ts';
import type { WebhookTables } from '../webhooks/tables.ts';

/** Key/value settings kept in the store (generated secrets, schema facts). */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface CoreTables {
  settings: SettingsTable;
}

/** Every table of every capability; each capability declares its own in `<capability>/tables.ts`. */
export interface Database extends CoreTables, AuditTables, TenantTables, AccountTables, DomainTables, UserTables, MessageApiTables, DeliveryTables, SubscriberTables, TrackingTables, CampaignTables, BounceTables, OperationsTables, AnalyticsTables, WebhookTables {}

export type { Generated };
