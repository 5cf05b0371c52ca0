import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateApiKey } from '../accounts/apikeys.ts';
import type { Actor } from '../audit/log.ts';
import { AppError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { sessionFromToken } from '../users/login.ts';
import type { SessionPrincipal } from '../users/login.ts';
import type { Role } from '../users/service.ts';

export const SESSION_COOKIE = 'fanout_session';

export type Principal =
  | { kind: 'user'; role: Role; tenantId: string | null; userId: string; name: string; session: SessionPrincipal }
  | { kind: 'apikey'; role: 'account'; tenantId: string; accountId: string; keyId: string; name: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Resolves who is calling: a Bearer API key, or a session cookie. Cookie-authenticated writes
 * must echo the session's CSRF token in `x-csrf-token`; API keys are not ambient credentials,
 * so they need none.
 */
export function authenticationHook(store: Store) {
  return async (req: FastifyRequest): Promise<void> => {
    req.principal = null;
    // Recipient pages (unsubscribe, tracking, subscribe form) act on signed tokens, never on a login.
    if (!req.url.startsWith('/api/')) return;
    const header = req.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new AppError('unauthorized', 'the Authorization header must be "Bearer <api key>"');
      const key = await authenticateApiKey(store.db, m[1]!);
      if (!key) throw new AppError('unauthorized', 'the API key is unknown or revoked');
      req.principal = { kind: 'apikey', role: 'account', tenantId: key.tenantId, accountId: key.accountId, keyId: key.keyId, name: `apikey:${key.prefix}` };
      return;
    }
    const token = req.cookies?.[SESSION_COOKIE];
    if (!token) return;
    const session = await sessionFromToken(store.db, token);
    if (!session) return;
    if (UNSAFE.has(req.method) && req.headers['x-csrf-token'] !== session.csrfToken) {
      throw new AppError('forbidden', 'missing or wrong x-csrf-token header for a cookie-authenticated request');
    }
    req.principal = { kind: 'user', role: session.user.role, tenantId: session.user.tenantId, userId: session.user.id, name: session.user.username, session };
  };
}

/**
 * The caller, who must be fully logged in (password and, where enrolled, TOTP). A user who
 * still has a one-time password (the first administrator) may do nothing else than change it:
 * only the routes that say `passwordChange: true` (me, change password) let them through.
 */
export function requirePrincipal(req: FastifyRequest, options: { passwordChange?: boolean } = {}): Principal {
  const p = req.principal;
  if (!p) throw new AppError('unauthorized', 'log in or present an API key');
  if (p.kind === 'user' && p.session.pendingTotp) throw new AppError('unauthorized', 'the TOTP code is still due for this login');
  if (p.kind === 'user' && p.session.user.mustChangePassword && !options.passwordChange) {
    throw new AppError('forbidden', 'change your one-time password first: POST /api/v1/auth/password {currentPassword, newPassword}');
  }
  return p;
}

export type Permission = Role | 'account';

/** The tenant a caller is confined to, or null for platform-wide roles. */
export function tenantScope(p: Principal): string | null {
  return p.kind === 'apikey' ? p.tenantId : p.role === 'operator' ? p.tenantId : null;
}

export function actorOf(req: FastifyRequest): Actor {
  const p = req.principal;
  const clientIp = req.ip;
  if (!p) return { operator: 'anonymous', clientIp, role: 'system' };
  if (p.kind === 'apikey') return { operator: p.name, clientIp, role: 'account', tenantId: p.tenantId, accountId: p.accountId };
  return { operator: p.name, clientIp, role: p.role, userId: p.userId, tenantId: p.tenantId };
}

/**
 * Whether the session cookie is marked Secure: as configured, or with "auto" when the public
 * URL is https or this request came over TLS (directly, or through a trusted proxy that says
 * so in X-Forwarded-Proto: Fastify's req.protocol honours it only with http.trustProxy).
 */
export function secureCookie(req: FastifyRequest, setting: boolean | 'auto', publicUrl: string): boolean {
  if (setting !== 'auto') return setting;
  return /^https:/i.test(publicUrl) || req.protocol === 'https';
}

export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean, maxAgeSeconds: number): void {
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: maxAgeSeconds });
}
