import { defineCapability } from '../platform/capability.ts';
import { WebhooksConfigSchema } from './config.ts';
import * as webhooksMigration from './migrations/0700_webhooks.ts';
import { webhookRoutes } from './routes.ts';

/** Signed webhooks to business systems (Standard Webhooks), from a durable outbox. */
export const webhooks = defineCapability({
  name: 'webhooks',
  migrations: [{ name: '0700_webhooks', up: webhooksMigration.up }],
  routes: [webhookRoutes],
  config: { webhooks: WebhooksConfigSchema },
});
