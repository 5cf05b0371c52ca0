import { defineCapability } from '../platform/capability.ts';
import { accountRoutes } from './routes.ts';

/** Sending accounts, their quotas and API keys. */
export const accounts = defineCapability({ name: 'accounts', routes: [accountRoutes] });
