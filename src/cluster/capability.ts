import { defineCapability } from '../platform/capability.ts';
import * as clusterMigration from './migrations/0600_cluster.ts';

/** State shared by the nodes of one store: once-per-cluster jobs, shared limits, counters. */
export const cluster = defineCapability({
  name: 'cluster',
  migrations: [{ name: '0600_cluster', up: (db) => clusterMigration.up(db) }],
});
