import { defineCapability } from '../platform/capability.ts';
import * as rollups from './migrations/0400_analytics.ts';
import * as exportsMigration from './migrations/0410_exports.ts';
import { analyticsRoutes } from './routes.ts';

/** Sending statistics from rollups, the delivery log's timeline and background exports. */
export const analytics = defineCapability({
  name: 'analytics',
  migrations: [
    { name: '0400_analytics', up: (db) => rollups.up(db) },
    { name: '0410_analytics_exports', up: (db) => exportsMigration.up(db) },
  ],
  routes: [analyticsRoutes],
});
