import { defineCapability } from '../platform/capability.ts';
import * as subscribersMigration from '../store/migrations/0300_subscribers.ts';
import * as subscriptionForms from '../store/migrations/0360_subscription_forms.ts';
import * as importLifecycle from '../store/migrations/0370_subscriber_import_lifecycle.ts';
import { registerSubscriberCommands } from './cli.ts';
import { ImportConfigSchema } from './config.ts';
import { subscriberPublicRoutes } from './public-routes.ts';
import { subscriberRoutes } from './routes.ts';

/** Lists, subscribers, imports and exports, double opt-in and the subscription form. */
export const subscribers = defineCapability({
  name: 'subscribers',
  migrations: [
    { name: '0300_subscribers', up: subscribersMigration.up },
    { name: '0360_subscription_forms', up: (db) => subscriptionForms.up(db) },
    { name: '0370_subscriber_import_lifecycle', up: (db) => importLifecycle.up(db) },
  ],
  routes: [subscriberRoutes],
  publicRoutes: [subscriberPublicRoutes],
  commands: (program, context) => registerSubscriberCommands(program, { context }),
  config: { imports: ImportConfigSchema },
});
