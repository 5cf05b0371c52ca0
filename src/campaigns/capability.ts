import { defineCapability } from '../platform/capability.ts';
import * as campaignsMigration from '../store/migrations/0310_campaigns.ts';
import { campaignRoutes } from './routes.ts';

/** Campaigns and their approval, schedule and progress; stored templates. */
export const campaigns = defineCapability({
  name: 'campaigns',
  migrations: [{ name: '0310_campaigns', up: (db) => campaignsMigration.up(db) }],
  routes: [campaignRoutes],
});
