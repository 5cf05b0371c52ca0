import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.ts';
import * as foundation from './0001_foundation.ts';
import * as domains from './0002_domains.ts';
import * as messagesApi from './0010_messages_api.ts';
import * as securityHardening from './0020_security_hardening.ts';
import * as delivery from './0100_delivery.ts';
import * as sharedBodyParts from './0150_shared_body_parts.ts';
import * as messageClientIp from './0160_message_client_ip.ts';
import * as bounces from './0200_bounces.ts';
import * as subscribers from './0300_subscribers.ts';
import * as subscriptionForms from './0360_subscription_forms.ts';
import * as importLifecycle from './0370_subscriber_import_lifecycle.ts';
import * as campaigns from './0310_campaigns.ts';
import * as tracking from './0350_tracking.ts';
import * as analytics from '../../analytics/migrations/0400_analytics.ts';
import * as analyticsExports from '../../analytics/migrations/0410_exports.ts';
import * as operations from '../../operations/migrations/0500_operations.ts';
import * as webhooks from '../../webhooks/migrations/0600_webhooks.ts';

export interface StoreMigration {
  name: string;
  up(db: Kysely<unknown>, engine: Engine): Promise<void>;
}

/**
 * Every schema version, in order. Capabilities own number ranges so parallel work never
 * collides: 0001-0099 foundation, 0100-0199 delivery, 0200-0299 bounces, 0300-0399 campaigns,
 * 0400-0499 analytics, 0500-0599 operations, 0600-0699 webhooks.
 */
export const migrations: StoreMigration[] = [
  { name: '0001_foundation', up: foundation.up },
  { name: '0002_domains', up: domains.up },
  { name: '0010_messages_api', up: messagesApi.up },
  { name: '0020_security_hardening', up: securityHardening.up },
  { name: '0100_delivery', up: delivery.up },
  { name: '0150_shared_body_parts', up: sharedBodyParts.up },
  { name: '0160_message_client_ip', up: (db) => messageClientIp.up(db) },
  { name: '0200_bounces', up: bounces.up },
  { name: '0300_subscribers', up: subscribers.up },
  { name: '0310_campaigns', up: (db) => campaigns.up(db) },
  { name: '0350_tracking', up: tracking.up },
  { name: '0360_subscription_forms', up: (db) => subscriptionForms.up(db) },
  { name: '0370_subscriber_import_lifecycle', up: (db) => importLifecycle.up(db) },
  { name: '0400_analytics', up: (db) => analytics.up(db) },
  { name: '0410_analytics_exports', up: (db) => analyticsExports.up(db) },
  { name: '0500_operations', up: operations.up },
  { name: '0600_webhooks', up: webhooks.up },
];
