import { accountRoutes } from '../accounts/routes.ts';
import { operationLogRoutes } from '../audit/routes.ts';
import { messageRoutes } from '../messages/routes.ts';
import { campaignRoutes } from '../campaigns/routes.ts';
import { deliveryRoutes } from '../delivery/routes.ts';
import { analyticsRoutes } from '../analytics/index.ts';
import { webhookRoutes } from '../webhooks/index.ts';
import { metricsRoutes } from '../metrics/index.ts';
import { domainRoutes } from '../domains/routes.ts';
import { tenantRoutes } from '../tenants/routes.ts';
import { authRoutes, userRoutes } from '../users/routes.ts';
import { suppressionRoutes } from '../bounces/routes.ts';
import { subscriberRoutes } from '../subscribers/routes.ts';
import { subscriberPublicRoutes } from '../subscribers/public-routes.ts';
import { publicTrackingRoutes } from '../tracking/public-routes.ts';
import { consoleRoutes } from '../console/index.ts';
import { operationsPublicRoutes, operationsRoutes } from '../operations/index.ts';
import type { RouteModule } from './app.ts';

/** Every capability's routes, in one list: adding a capability adds one line here. */
export const routeModules: RouteModule[] = [
  authRoutes,
  userRoutes,
  tenantRoutes,
  accountRoutes,
  domainRoutes,
  operationLogRoutes,
  messageRoutes,
  campaignRoutes,
  deliveryRoutes,
  analyticsRoutes,
  webhookRoutes,
  suppressionRoutes,
  subscriberRoutes,
  operationsRoutes,
];

/** Routes outside /api/v1 that recipients reach from their mail. */
export const publicRouteModules: RouteModule[] = [publicTrackingRoutes, subscriberPublicRoutes, operationsPublicRoutes, metricsRoutes, consoleRoutes];
