import type { TSchema } from '@sinclair/typebox';
import type { Command } from 'commander';
import type { ContextOpener } from '../cli/context.ts';
import type { FanoutConfig } from '../config/schema.ts';
import { loadConfig } from '../config/load.ts';
import type { LoadOptions } from '../config/load.ts';
import type { HttpDeps, RouteModule } from '../http/app.ts';
import type { Logger } from './logger.ts';
import type { Store } from '../store/store.ts';
import { authenticateApiKey } from '../accounts/index.ts';
import { sessionFromToken } from '../users/index.ts';
import { linkErrorPage } from '../tracking/index.ts';
import type { Capability } from '../platform/capability.ts';
import { foundationMigrations } from '../store/migrations/index.ts';
import type { StoreMigration } from '../store/migrations/index.ts';
import { accounts } from '../accounts/capability.ts';
import { analytics } from '../analytics/capability.ts';
import { audit } from '../audit/capability.ts';
import { bounces } from '../bounces/capability.ts';
import { campaigns } from '../campaigns/capability.ts';
import { cluster } from '../cluster/capability.ts';
import { webConsole } from '../console/capability.ts';
import { delivery } from '../delivery/capability.ts';
import { domains } from '../domains/capability.ts';
import { messages } from '../messages/capability.ts';
import { operations } from '../operations/capability.ts';
import { subscribers } from '../subscribers/capability.ts';
import { tenants } from '../tenants/capability.ts';
import { tracking } from '../tracking/capability.ts';
import { users } from '../users/capability.ts';
import { archive } from '../archive/capability.ts';
import { retention } from '../retention/capability.ts';
import { hooks } from '../hooks/capability.ts';
import { webhooks } from '../webhooks/capability.ts';
import { metrics } from '../metrics/capability.ts';

/**
 * Every capability, in one list: the only place that names them all. Adding a capability is a
 * folder with a `capability.ts` and one line here. The order is the order of their routes in the
 * OpenAPI document and of their commands in `fanout --help`.
 */
export const capabilities: Capability[] = [
  users,
  tenants,
  accounts,
  domains,
  audit,
  messages,
  campaigns,
  delivery,
  analytics,
  bounces,
  tracking,
  subscribers,
  operations,
  cluster,
  archive,
  retention,
  hooks,
  webhooks,
  metrics,
  webConsole,
];

/** The store's own migrations and every capability's, in name order (number ranges keep them apart). */
export const migrations: StoreMigration[] = [...foundationMigrations, ...capabilities.flatMap((c) => c.migrations ?? [])]
  .sort((a, b) => a.name.localeCompare(b.name));

/** Every capability's configuration section. */
export const configSections: Record<string, TSchema> = {};
for (const c of capabilities) {
  for (const [key, schema] of Object.entries(c.config ?? {})) {
    if (key in configSections) throw new Error(`configuration section "${key}" is claimed twice (${c.name})`);
    configSections[key] = schema;
  }
}

/** Routes under /api/v1. */
export const apiRoutes: RouteModule[] = capabilities.flatMap((c) => c.routes ?? []);

/** Routes outside /api/v1 (recipients' links and forms, the console's files). */
export const publicRoutes: RouteModule[] = capabilities.flatMap((c) => c.publicRoutes ?? []);

/** Every capability's `fanout` sub-commands. */
export function registerCapabilityCommands(program: Command, context: ContextOpener): void {
  for (const c of capabilities) c.commands?.(program, context);
}

/** What the HTTP application gets: the store, the configuration, and the capabilities that recognise callers. */
export function httpDeps(store: Store, config: FanoutConfig, logger?: Logger): HttpDeps {
  return {
    store, config, ...(logger ? { logger } : {}),
    identify: { apiKey: (key) => authenticateApiKey(store.db, key), session: (token) => sessionFromToken(store.db, token) },
    recipientErrorPage: linkErrorPage,
  };
}

/** The configuration with every capability's section (file, environment, overrides, defaults). */
export function loadAppConfig(options: Omit<LoadOptions, 'sections'> = {}): FanoutConfig {
  return loadConfig({ ...options, sections: configSections });
}
