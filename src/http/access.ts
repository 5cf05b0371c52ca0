import type { FastifyRequest, RouteOptions } from 'fastify';
import { AppError, forbidden, notFound } from '../core/errors.ts';
import { requirePrincipal, tenantScope } from './auth.ts';
import type { Permission, Principal } from './auth.ts';

/**
 * Which tenant's data a route touches, as its declaration says:
 * - `'caller'`: whatever the handler reads or writes is filtered with `scopeOf(req)`, the
 *   caller's tenant (null for the platform-wide roles: administrator, auditor, support);
 * - `{ param, what }`: the path parameter `param` is a tenant id; another tenant's answers 404
 *   `<what> not found`, exactly as a missing one, so ids cannot be probed;
 * - `'none'`: the route touches no tenant's data (the caller's own session, a draft preview).
 */
export type TenantRule = 'caller' | 'none' | { param: string; what: string };

/** Who may call a route, declared in its `config.access`. */
export interface RouteAccess {
  /** The roles allowed; `'signed-in'` for anyone logged in; `'public'` for no login at all (sign-in itself). */
  roles: readonly Permission[] | 'signed-in' | 'public';
  /** Required whenever an operator or an API key may call the route. */
  tenant?: TenantRule;
  /** Lets a user who must still change the one-time password through (me, change password). */
  passwordChange?: boolean;
}

/** What the access hook found: the caller and the tenant they are confined to on this route. */
export interface RequestAccess {
  principal: Principal;
  /** The tenant the route's declaration confines the caller to, or null (platform-wide, or a route touching no tenant). */
  scope: string | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    access: RequestAccess | null;
  }
}

/** Roles confined to one tenant: a route they may call must say which tenant it touches. */
const TENANT_BOUND: readonly Permission[] = ['operator', 'account'];

/**
 * Checked when each API route is registered: a route without a declaration, or one open to a
 * tenant-bound role without a tenant rule, is a programming error and stops the start-up.
 */
export function checkRouteAccess(route: RouteOptions): void {
  const access = route.config?.access;
  const name = `${String(route.method)} ${route.url}`;
  if (!access) throw new Error(`${name} declares no config.access (roles and tenant)`);
  const tenantBound = access.roles === 'signed-in' || (Array.isArray(access.roles) && access.roles.some((r) => TENANT_BOUND.includes(r)));
  if (tenantBound && !access.tenant) throw new Error(`${name} is open to operators or API keys but declares no config.access.tenant`);
  const rule = access.tenant;
  if (rule && typeof rule === 'object' && !route.url.includes(`:${rule.param}`)) throw new Error(`${name} declares tenant parameter "${rule.param}" that is not in its path`);
}

/**
 * The one place API routes are authorised, before the request is validated (a caller without
 * the right learns nothing of the route's schema): the caller must hold one of the declared
 * roles, and a tenant path parameter must be the caller's tenant. The result is `req.access`, which handlers read through
 * `principalOf` and `scopeOf`.
 */
export async function accessHook(req: FastifyRequest): Promise<void> {
  req.access = null;
  const access = req.routeOptions.config.access;
  if (!access || access.roles === 'public') return;
  const principal = requirePrincipal(req, { passwordChange: access.passwordChange === true });
  if (access.roles !== 'signed-in' && !access.roles.includes(principal.role)) {
    throw forbidden(`this action needs one of the roles: ${access.roles.join(', ')}`);
  }
  const scope = access.tenant === undefined || access.tenant === 'none' ? null : tenantScope(principal);
  const rule = access.tenant;
  if (rule && typeof rule === 'object' && scope !== null) {
    const given = (req.params as Record<string, unknown>)[rule.param];
    if (given !== scope) throw notFound(rule.what);
  }
  req.access = { principal, scope };
}

function accessOf(req: FastifyRequest): RequestAccess {
  if (!req.access) throw new AppError('unauthorized', 'log in or present an API key');
  return req.access;
}

/** The caller, as the route's access hook authorised them. */
export function principalOf(req: FastifyRequest): Principal {
  return accessOf(req).principal;
}

/** The tenant the caller is confined to on this route (the route's tenant rule), or null. */
export function scopeOf(req: FastifyRequest): string | null {
  return accessOf(req).scope;
}

/**
 * For handlers that load a record first: a record of another tenant than the route's scope
 * answers 404, exactly like a missing one, so ids cannot be probed.
 */
export function assertInScope(req: FastifyRequest, tenantId: string, what: string): void {
  const scope = scopeOf(req);
  if (scope !== null && scope !== tenantId) throw notFound(what);
}
