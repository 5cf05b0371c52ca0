import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { AppError } from '../core/errors.ts';
import { verifyPassword } from '../core/passwords.ts';
import type { RouteModule } from '../http/app.ts';
import { principalOf, scopeOf } from '../http/access.ts';
import { actorOf, secureCookie, SESSION_COOKIE, setSessionCookie } from '../http/auth.ts';
import { closed, IdParams, Password } from '../http/schemas.ts';
import { completeTotpLogin, login, logout } from './login.ts';
import type { LoginPolicy } from './login.ts';
import { createUser, getUser, listUsers, listUsersPage, setUserPassword, updateUser } from './service.ts';
import { beginTotpEnrolment, confirmTotpEnrolment, disableOwnTotp, disableTotp } from './totp.ts';

const Role = Type.Union([Type.Literal('administrator'), Type.Literal('operator'), Type.Literal('auditor'), Type.Literal('support')]);
const LoginBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, closed);
const CodeBody = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, closed);
// Changing the second factor needs the password again, and a current code when TOTP is on.
const ReauthBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 256 }), code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })) }, closed);
const ChangePasswordBody = Type.Object({ currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: Password }, closed);
const CreateUserBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }), password: Password, role: Role,
  tenantId: Type.Optional(Type.String({ maxLength: 64 })), locale: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')])),
}, closed);
const PatchUserBody = Type.Object({
  role: Type.Optional(Role), disabled: Type.Optional(Type.Boolean()), locale: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')])), unlock: Type.Optional(Type.Literal(true)),
}, closed);
const SetPasswordBody = Type.Object({ password: Password }, closed);
const UserListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 64 })), role: Type.Optional(Role),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), cursor: Type.Optional(Type.String({ maxLength: 64 })),
}, closed);
const OwnSettingsBody = Type.Object({ locale: Type.Union([Type.Literal('zh-CN'), Type.Literal('en')]) }, closed);

export const authRoutes: RouteModule = (app, { store, config }) => {
  const policy: LoginPolicy = {
    failures: config.security.loginLockoutFailures, lockMinutes: config.security.loginLockoutMinutes, ipFailures: config.security.loginIpFailures, sessionHours: config.security.sessionHours,
  };

  app.post<{ Body: Static<typeof LoginBody> }>('/auth/login', {
    config: { access: { roles: 'public' } },
    schema: {
      tags: ['auth'], body: LoginBody, security: [],
      summary: 'Password login; sets the session cookie. With TOTP enrolled, POST /auth/totp next; with mustChangePassword, POST /auth/password before anything else.',
    },
  }, async (req, reply) => {
    const { token, session } = await login(store, { ...req.body, clientIp: req.ip }, policy);
    setSessionCookie(reply, token, secureCookie(req, config.security.secureCookies, config.http.publicUrl), policy.sessionHours * 3600);
    return { user: session.user, csrfToken: session.csrfToken, totpRequired: session.pendingTotp, mustChangePassword: session.user.mustChangePassword };
  });
  app.post<{ Body: Static<typeof CodeBody> }>('/auth/totp', { config: { access: { roles: 'public' } }, schema: { tags: ['auth'], summary: 'Second login step: the TOTP code', body: CodeBody } }, async (req) => {
    const p = req.principal;
    if (!p || p.kind !== 'user') throw new AppError('unauthorized', 'log in with a password first');
    const session = await completeTotpLogin(store, p.session.sessionId, req.body.code, req.ip, policy);
    return { user: session.user, csrfToken: session.csrfToken, totpRequired: false, mustChangePassword: session.user.mustChangePassword };
  });
  app.post('/auth/logout', { config: { access: { roles: 'public' } }, schema: { tags: ['auth'] } }, async (req, reply) => {
    const p = req.principal;
    if (p?.kind === 'user') await logout(store, actorOf(req), p.session.sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });
  app.get('/auth/me', { config: { access: { roles: 'signed-in', tenant: 'none', passwordChange: true } }, schema: { tags: ['auth'] } }, async (req) => {
    const p = principalOf(req);
    if (p.kind === 'apikey') return { kind: 'apikey', tenantId: p.tenantId, accountId: p.accountId };
    return { kind: 'user', user: p.session.user, csrfToken: p.session.csrfToken };
  });
  // Every user keeps their own console language; the rest of a user's record stays an administrator's to change.
  app.patch<{ Body: Static<typeof OwnSettingsBody> }>('/auth/me', { config: { access: { roles: 'signed-in', tenant: 'none' } }, schema: { tags: ['auth'], summary: 'Change my own settings (the console language); any role', body: OwnSettingsBody } }, async (req) => {
    const p = principalOf(req);
    if (p.kind !== 'user') throw new AppError('forbidden', 'only console users have settings');
    return updateUser(store, actorOf(req), p.userId, { locale: req.body.locale });
  });
  app.post<{ Body: Static<typeof ChangePasswordBody> }>('/auth/password', { config: { access: { roles: 'signed-in', tenant: 'none', passwordChange: true } }, schema: { tags: ['auth'], summary: 'Change my password (ends every session: sign in again)', body: ChangePasswordBody } }, async (req, reply) => {
    const p = principalOf(req);
    if (p.kind !== 'user') throw new AppError('forbidden', 'only console users have passwords');
    const row = await store.db.selectFrom('console_users').select('password_hash').where('id', '=', p.userId).executeTakeFirstOrThrow();
    if (!(await verifyPassword(row.password_hash, req.body.currentPassword))) throw new AppError('validation', 'the current password is wrong', { problems: [{ field: '/body/currentPassword', message: 'wrong' }] });
    if (req.body.newPassword === req.body.currentPassword) throw new AppError('validation', 'the new password must differ from the current one', { problems: [{ field: '/body/newPassword', message: 'same as the current password' }] });
    await setUserPassword(store, actorOf(req), p.userId, req.body.newPassword);
    return reply.code(204).send();
  });
  app.post<{ Body: Static<typeof ReauthBody> }>('/auth/totp/enrol', { config: { access: { roles: 'signed-in', tenant: 'none' } },
    schema: { tags: ['auth'], summary: 'Start TOTP enrolment: returns the secret and otpauth URI. Needs the password, and a current code when TOTP is already on; TOTP stays as it was until /auth/totp/confirm', body: ReauthBody },
  }, async (req) => {
    const p = principalOf(req);
    if (p.kind !== 'user') throw new AppError('forbidden', 'only console users have TOTP');
    return beginTotpEnrolment(store, actorOf(req), p.userId, req.body);
  });
  app.delete<{ Body: Static<typeof ReauthBody> }>('/auth/totp', { config: { access: { roles: 'signed-in', tenant: 'none' } }, schema: { tags: ['auth'], summary: 'Switch my TOTP off: needs the password and a current code', body: ReauthBody } }, async (req, reply) => {
    const p = principalOf(req);
    if (p.kind !== 'user') throw new AppError('forbidden', 'only console users have TOTP');
    await disableOwnTotp(store, actorOf(req), p.userId, req.body);
    return reply.code(204).send();
  });
  app.post<{ Body: Static<typeof CodeBody> }>('/auth/totp/confirm', { config: { access: { roles: 'signed-in', tenant: 'none' } }, schema: { tags: ['auth'], summary: 'Confirm TOTP enrolment with a code', body: CodeBody } }, async (req, reply) => {
    const p = principalOf(req);
    if (p.kind !== 'user') throw new AppError('forbidden', 'only console users have TOTP');
    await confirmTotpEnrolment(store, actorOf(req), p.userId, req.body.code);
    return reply.code(204).send();
  });
};

export const userRoutes: RouteModule = (app, { store }) => {
  app.get<{ Querystring: Static<typeof UserListQuery> }>('/users', {
    config: { access: { roles: ['administrator', 'auditor', 'operator'], tenant: 'caller' } },
    schema: { tags: ['users'], summary: 'Users by name; with limit, a page and the nextCursor of the next one', querystring: UserListQuery },
  }, async (req) => {
    const { q, role, limit, cursor } = req.query;
    if (q === undefined && role === undefined && limit === undefined && cursor === undefined) return { items: await listUsers(store.db, { tenantId: scopeOf(req) }), nextCursor: null };
    return listUsersPage(store.db, { tenantId: scopeOf(req), q, role, limit, cursor });
  });
  app.post<{ Body: Static<typeof CreateUserBody> }>('/users', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['users'], body: CreateUserBody } }, async (req, reply) => {
    return reply.code(201).send(await createUser(store, actorOf(req), req.body));
  });
  app.get<{ Params: Static<typeof IdParams> }>('/users/:id', { config: { access: { roles: ['administrator', 'auditor', 'operator'], tenant: 'caller' } }, schema: { tags: ['users'], params: IdParams } }, async (req) => {
    const user = await getUser(store.db, req.params.id);
    const scope = scopeOf(req);
    if (scope && user.tenantId !== scope) throw new AppError('not_found', 'user not found');
    return user;
  });
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchUserBody> }>('/users/:id', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['users'], params: IdParams, body: PatchUserBody } }, async (req) => {
    return updateUser(store, actorOf(req), req.params.id, req.body);
  });
  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof SetPasswordBody> }>('/users/:id/password', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['users'], params: IdParams, body: SetPasswordBody } }, async (req, reply) => {
    await setUserPassword(store, actorOf(req), req.params.id, req.body.password);
    return reply.code(204).send();
  });
  app.delete<{ Params: Static<typeof IdParams> }>('/users/:id/totp', { config: { access: { roles: ['administrator'] } }, schema: { tags: ['users'], summary: 'Reset a user\'s TOTP (lost phone)', params: IdParams } }, async (req, reply) => {
    await disableTotp(store, actorOf(req), req.params.id);
    return reply.code(204).send();
  });
};
