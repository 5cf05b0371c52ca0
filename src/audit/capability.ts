import { defineCapability } from '../platform/capability.ts';
import { operationLogRoutes } from './routes.ts';

/** The operation log: every administrator write, hash-chained. */
export const audit = defineCapability({ name: 'audit', routes: [operationLogRoutes] });
