import { defineCapability } from '../platform/capability.ts';
import * as deliveryMigration from '../store/migrations/0100_delivery.ts';
import * as sharedBodyParts from '../store/migrations/0150_shared_body_parts.ts';
import * as messageClientIp from '../store/migrations/0160_message_client_ip.ts';
import { DeliveryConfigSchema } from './config.ts';
import { deliveryRoutes } from './routes.ts';

/** The queue, the sender, SMTP submission and DKIM signing. */
export const delivery = defineCapability({
  name: 'delivery',
  migrations: [
    { name: '0100_delivery', up: deliveryMigration.up },
    { name: '0150_shared_body_parts', up: sharedBodyParts.up },
    { name: '0160_message_client_ip', up: (db) => messageClientIp.up(db) },
  ],
  routes: [deliveryRoutes],
  config: { delivery: DeliveryConfigSchema },
});
