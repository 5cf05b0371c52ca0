import { defineCapability } from '../platform/capability.ts';
import { registerOperationsCommands } from './cli.ts';
import { OperationsConfigSchema } from './config.ts';
import * as operationsMigration from './migrations/0500_operations.ts';
import { operationsPublicRoutes, operationsRoutes } from './routes.ts';

/** Health inspections, fault tickets, surveys and reports. */
export const operations = defineCapability({
  name: 'operations',
  migrations: [{ name: '0500_operations', up: operationsMigration.up }],
  routes: [operationsRoutes],
  publicRoutes: [operationsPublicRoutes],
  commands: (program, context) => registerOperationsCommands(program, context),
  config: { operations: OperationsConfigSchema },
});
