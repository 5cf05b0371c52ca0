import { defineCapability } from '../platform/capability.ts';
import * as domainsMigration from '../store/migrations/0002_domains.ts';
import { registerDomainCommands } from './cli.ts';
import { DomainRecordsConfigSchema } from './config.ts';
import { domainRoutes } from './routes.ts';

/** Sending domains: DKIM keys, DNS records and their verification. */
export const domains = defineCapability({
  name: 'domains',
  migrations: [{ name: '0002_domains', up: domainsMigration.up }],
  routes: [domainRoutes],
  commands: (program, context) => registerDomainCommands(program, { context }),
  config: { domains: DomainRecordsConfigSchema },
});
