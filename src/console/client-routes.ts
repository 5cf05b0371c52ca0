/**
 * The console's client-side routes: each answers the single-page application's index.html,
 * so a link to any screen can be opened, bookmarked and shared. `/*` after a prefix covers its
 * detail screens (e.g. /tenants/:id). Keep in step with web/src/app/routes.tsx.
 */
export const CLIENT_ROUTES = [
  '/', '/login', '/profile', '/dashboard',
  '/stats/sends', '/stats/failures',
  '/delivery-log', '/operation-log',
  '/tenants', '/domains', '/lists', '/templates', '/campaigns', '/suppressions',
  '/webhooks', '/users', '/ops/inspections', '/ops/tickets', '/ops/surveys',
] as const;

/** Prefixes whose nested paths are detail screens of the SPA. */
export const CLIENT_ROUTE_PREFIXES = ['/delivery-log', '/tenants', '/domains', '/lists', '/templates', '/campaigns', '/users', '/webhooks', '/ops/inspections', '/ops/tickets'] as const;
