import { defineCapability } from '../platform/capability.ts';
import { tenantRoutes } from './routes.ts';

/** Tenants: the business units every other record belongs to. */
export const tenants = defineCapability({ name: 'tenants', routes: [tenantRoutes] });
