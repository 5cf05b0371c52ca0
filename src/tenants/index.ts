/** The tenants capability's surface for the other capabilities. */
export { createTenant, getTenant, listTenants, resolveTenant, tenantAccountType, updateTenant, ACCOUNT_TYPES, TENANT_STATUSES } from './service.ts';
export type { TenantView } from './service.ts';
export type { TenantTable } from './tables.ts';
