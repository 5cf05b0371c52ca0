import { defineCapability } from '../platform/capability.ts';
import { ArchiveConfigSchema } from './config.ts';
import * as archiveMigration from './migrations/0600_archive.ts';
import { archiveRoutes } from './routes.ts';

/** The archive of sent mail: retention policies, search, legal holds, two-person deletion, digests. */
export const archive = defineCapability({
  name: 'archive',
  migrations: [{ name: '0600_archive', up: archiveMigration.up }],
  routes: [archiveRoutes],
  config: { archive: ArchiveConfigSchema },
});
