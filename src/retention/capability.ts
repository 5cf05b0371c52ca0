import { defineCapability } from '../platform/capability.ts';
import { RetentionConfigSchema } from './config.ts';
import * as retentionMigration from './migration.ts';

/** Retention: the prune job and its settings. */
export const retention = defineCapability({
  name: 'retention',
  migrations: [{ name: '0610_retention', up: (db) => retentionMigration.up(db) }],
  config: { retention: RetentionConfigSchema },
});
