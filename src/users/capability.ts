import { defineCapability } from '../platform/capability.ts';
import { authRoutes, userRoutes } from './routes.ts';

/** Console users, sign-in, sessions and TOTP. */
export const users = defineCapability({ name: 'users', routes: [authRoutes, userRoutes] });
