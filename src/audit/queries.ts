import type { Executor } from '../store/store.ts';

export interface OperationLogFilter {
  operation?: string;
  /** Prefix match on the operation type, e.g. `account.` for every account operation. */
  operationPrefix?: string;
  operator?: string;
  objectType?: string;
  objectId?: string;
  tenantId?: string;
  from?: number;
  to?: number;
  /** Keyset pagination: entries older than this id. */
  before?: number;
  limit?: number;
}

export interface OperationLogEntry {
  id: number;
  at: string;
  operation: string;
  objectType: string;
  objectId: string | null;
  description: string;
  operator: string;
  clientIp: string;
  tenantId: string | null;
  details: unknown;
}

/** Newest first; `nextBefore` is the cursor for the next page, null on the last page. */
export async function listOperations(db: Executor, f: OperationLogFilter): Promise<{ items: OperationLogEntry[]; nextBefore: number | null }> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
  let q = db.selectFrom('operation_log').selectAll();
  if (f.operation) q = q.where('operation', '=', f.operation);
  if (f.operationPrefix) q = q.where('operation', 'like', `${f.operationPrefix.replace(/[%_]/g, '')}%`);
  if (f.operator) q = q.where('operator', '=', f.operator);
  if (f.objectType) q = q.where('object_type', '=', f.objectType);
  if (f.objectId) q = q.where('object_id', '=', f.objectId);
  if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
  if (f.from !== undefined) q = q.where('at', '>=', f.from);
  if (f.to !== undefined) q = q.where('at', '<', f.to);
  if (f.before !== undefined) q = q.where('id', '<', f.before);
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  return {
    items: page.map((r) => ({
      id: r.id,
      at: new Date(r.at).toISOString(),
      operation: r.operation,
      objectType: r.object_type,
      objectId: r.object_id,
      description: r.description,
      operator: r.operator,
      clientIp: r.client_ip,
      tenantId: r.tenant_id,
      details: JSON.parse(r.details),
    })),
    nextBefore: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}
