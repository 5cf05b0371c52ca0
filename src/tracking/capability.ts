import { defineCapability } from '../platform/capability.ts';
import * as trackingMigration from '../store/migrations/0350_tracking.ts';
import { publicTrackingRoutes } from './public-routes.ts';

/** Opens, clicks and one-click unsubscribe from signed links. */
export const tracking = defineCapability({
  name: 'tracking',
  migrations: [{ name: '0350_tracking', up: trackingMigration.up }],
  publicRoutes: [publicTrackingRoutes],
});
