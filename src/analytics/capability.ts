import { defineCapability } from '../platform/capability.ts';
import { analyticsRoutes } from './routes.ts';

/** Statistics over what was sent. */
export const analytics = defineCapability({ name: 'analytics', routes: [analyticsRoutes] });
