import type { Actor } from '../audit/log.ts';
import { recordOperation } from '../audit/log.ts';
import { conflict, invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { requireName } from '../core/validate.ts';
import { containsText } from '../store/contains.ts';
import type { Executor, Store } from '../store/store.ts';
import type { TenantTable } from './tables.ts';

export const ACCOUNT_TYPES = ['bulk', 'transactional'] as const;
export const TENANT_STATUSES = ['active', 'suspended'] as const;

export interface TenantView {
  id: string;
  name: string;
  accountType: string;
  status: string;
  createdAt: string;
  /** Totals over the tenant's accounts (购买 / 已发 / 剩余); null purchased means unlimited. */
  purchased: number | null;
  used: number;
  remaining: number | null;
  /** 域名: the tenant's sending domains. */
  domains: string[];
}

interface Totals {
  purchased: number | null;
  used: number;
  domains: string[];
}

function view(t: TenantTable, totals?: Totals): TenantView {
  const purchased = totals?.purchased ?? null;
  const used = totals?.used ?? 0;
  return {
    id: t.id, name: t.name, accountType: t.account_type, status: t.status, createdAt: new Date(t.created_at).toISOString(),
    purchased, used, remaining: purchased === null ? null : Math.max(purchased - used, 0), domains: totals?.domains ?? [],
  };
}

function requireOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalid(`${field} must be one of ${allowed.join(', ')}`, [{ field, message: `one of ${allowed.join(', ')}` }]);
  }
  return value as T;
}

/** Purchased / used totals over the tenants' accounts, and their domains; unlimited wins. */
async function totalsFor(db: Executor, tenantIds: string[]): Promise<Map<string, Totals>> {
  const out = new Map<string, Totals>();
  if (!tenantIds.length) return out;
  const get = (id: string) => {
    let t = out.get(id);
    if (!t) out.set(id, (t = { purchased: 0, used: 0, domains: [] }));
    return t;
  };
  const rows = await db.selectFrom('sending_accounts').select(['tenant_id', 'quota', 'used'])
    .where('tenant_id', 'in', tenantIds).where('status', '!=', 'deleted').execute();
  for (const r of rows) {
    const t = get(r.tenant_id);
    t.purchased = t.purchased === null || r.quota === null ? null : t.purchased + r.quota;
    t.used += r.used;
  }
  for (const id of tenantIds) if (!rows.some((r) => r.tenant_id === id)) get(id).purchased = null;
  const domains = await db.selectFrom('sending_domains').select(['tenant_id', 'domain']).where('tenant_id', 'in', tenantIds).orderBy('domain').execute();
  for (const d of domains) get(d.tenant_id).domains.push(d.domain);
  return out;
}

export async function createTenant(store: Store, actor: Actor, input: { name: unknown; accountType?: unknown }): Promise<TenantView> {
  const name = requireName('name', input.name);
  const accountType = input.accountType === undefined ? 'bulk' : requireOneOf('accountType', input.accountType, ACCOUNT_TYPES);
  return store.transaction(async (trx) => {
    const existing = await trx.selectFrom('tenants').select('id').where('name', '=', name).executeTakeFirst();
    if (existing) throw conflict(`a tenant named "${name}" already exists`);
    const now = Date.now();
    const row: TenantTable = { id: newId('tn', now), name, account_type: accountType, status: 'active', created_at: now, updated_at: now };
    await trx.insertInto('tenants').values(row).execute();
    await recordOperation(trx, actor, { operation: 'tenant.create', objectType: 'tenant', objectId: row.id, tenantId: row.id, description: `created tenant ${name}`, details: { name, accountType } });
    return view(row);
  });
}

export async function listTenants(db: Executor, scope: { tenantId?: string | null } = {}): Promise<TenantView[]> {
  let q = db.selectFrom('tenants').selectAll().orderBy('name');
  if (scope.tenantId) q = q.where('id', '=', scope.tenantId);
  const rows = await q.execute();
  const totals = await totalsFor(db, rows.map((r) => r.id));
  return rows.map((r) => view(r, totals.get(r.id)));
}

export interface TenantPageFilter {
  tenantId?: string | null;
  /** Part of the name, any case. */
  q?: string;
  status?: string;
  limit?: number;
  /** The name of the last tenant of the page before (names are unique). */
  cursor?: string;
}

/** A page of tenants by name, keyset-paged on the name; nextCursor is null on the last page. */
export async function listTenantsPage(db: Executor, f: TenantPageFilter): Promise<{ items: TenantView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
  let q = db.selectFrom('tenants').selectAll().orderBy('name');
  if (f.tenantId) q = q.where('id', '=', f.tenantId);
  if (f.q) q = q.where(containsText('name', f.q));
  if (f.status) q = q.where('status', '=', f.status);
  if (f.cursor) q = q.where('name', '>', f.cursor);
  const rows = await q.limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const totals = await totalsFor(db, page.map((r) => r.id));
  return { items: page.map((r) => view(r, totals.get(r.id))), nextCursor: rows.length > limit ? page[page.length - 1]!.name : null };
}

export async function getTenant(db: Executor, id: string): Promise<TenantView> {
  const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('tenant');
  return view(row, (await totalsFor(db, [id])).get(id));
}

/** The tenant's type (bulk customer or transactional), or null for an unknown tenant. */
export async function tenantAccountType(db: Executor, id: string): Promise<TenantTable['account_type'] | null> {
  const row = await db.selectFrom('tenants').select('account_type').where('id', '=', id).executeTakeFirst();
  return row?.account_type ?? null;
}

/** A tenant by id or by exact name, as the CLI's `--tenant T` accepts either. */
export async function resolveTenant(db: Executor, idOrName: string): Promise<TenantTable> {
  const row = await db.selectFrom('tenants').selectAll().where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)])).executeTakeFirst();
  if (!row) throw notFound(`tenant "${idOrName}"`);
  return row;
}

export async function updateTenant(store: Store, actor: Actor, id: string, patch: { name?: unknown; accountType?: unknown; status?: unknown }): Promise<TenantView> {
  const changes: Partial<TenantTable> = {};
  if (patch.name !== undefined) changes.name = requireName('name', patch.name);
  if (patch.accountType !== undefined) changes.account_type = requireOneOf('accountType', patch.accountType, ACCOUNT_TYPES);
  if (patch.status !== undefined) changes.status = requireOneOf('status', patch.status, TENANT_STATUSES);
  return store.transaction(async (trx) => {
    const current = await trx.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    if (!current) throw notFound('tenant');
    if (changes.name && changes.name !== current.name) {
      const clash = await trx.selectFrom('tenants').select('id').where('name', '=', changes.name).executeTakeFirst();
      if (clash) throw conflict(`a tenant named "${changes.name}" already exists`);
    }
    await trx.updateTable('tenants').set({ ...changes, updated_at: Date.now() }).where('id', '=', id).execute();
    await recordOperation(trx, actor, { operation: 'tenant.update', objectType: 'tenant', objectId: id, tenantId: id, description: `updated tenant ${current.name}`, details: { ...changes } });
    return getTenant(trx, id);
  });
}
