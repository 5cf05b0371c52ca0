import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { RouteModule } from '../http/app.ts';
import { scopeOf } from '../http/access.ts';
import { closed } from '../http/schemas.ts';
import { verifyOperationLog } from './log.ts';
import { listOperations } from './queries.ts';

const Query = Type.Object({
  operation: Type.Optional(Type.String({ maxLength: 100, description: 'exact type, or a prefix ending in "." (e.g. account.)' })),
  operator: Type.Optional(Type.String({ maxLength: 100 })),
  objectType: Type.Optional(Type.String({ maxLength: 50 })),
  objectId: Type.Optional(Type.String({ maxLength: 64 })),
  tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
}, closed);

export const operationLogRoutes: RouteModule = (app, { store }) => {
  app.get<{ Querystring: Static<typeof Query> }>('/operation-log', { config: { access: { roles: ['administrator', 'auditor', 'operator', 'support'], tenant: 'caller' } }, schema: { tags: ['operation log'], summary: '操作日志: every administrative action, newest first', querystring: Query } }, async (req) => {
    const q = req.query;
    const scope = scopeOf(req);
    const prefix = q.operation?.endsWith('.') ? q.operation : undefined;
    return listOperations(store.db, {
      operation: prefix ? undefined : q.operation, operationPrefix: prefix, operator: q.operator, objectType: q.objectType, objectId: q.objectId,
      tenantId: scope ?? q.tenantId, from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined, before: q.before, limit: q.limit,
    });
  });
  app.get('/operation-log/verify', { config: { access: { roles: ['administrator', 'auditor'] } }, schema: { tags: ['operation log'], summary: 'Check the hash chain; reports the first broken entry' } }, async () => {
    return verifyOperationLog(store.db);
  });
};
