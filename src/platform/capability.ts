import type { TSchema } from '@sinclair/typebox';
import type { Command } from 'commander';
import type { ContextOpener } from '../cli/context.ts';
import type { RouteModule } from '../http/app.ts';
import type { StoreMigration } from '../store/migrations/index.ts';

/**
 * What a capability brings to the application, collected by the composition root
 * (src/app/capabilities.ts): adding a capability is one folder with a `capability.ts` exporting
 * one of these, plus one line in that list.
 *
 * Its tables are types only: the capability's `tables.ts` adds them to the store's `Database`
 * interface by declaration merging (`declare module '../store/schema.ts'`), so queries stay typed
 * without the store importing the capability.
 */
export interface Capability {
  /** The folder name: used in error messages and the architecture test. */
  name: string;
  /** Schema versions it owns, each named `NNNN_what` inside its number range (docs/architecture.md). */
  migrations?: StoreMigration[];
  /** Routes under /api/v1; each declares its roles and tenant scope in `config.access`. */
  routes?: RouteModule[];
  /** Routes outside /api/v1 that recipients reach from their mail (signed links, forms) or the console's files. */
  publicRoutes?: RouteModule[];
  /** Its `fanout` sub-commands; `context` opens the configuration and the migrated store for one command. */
  commands?: (program: Command, context: ContextOpener) => void;
  /** Top-level configuration sections it owns: key → TypeBox schema with defaults (closed objects). */
  config?: Record<string, TSchema>;
}

/** Identity, for type checking a capability's object where it is written. */
export const defineCapability = (capability: Capability): Capability => capability;
