import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { requireName } from '../core/validate.ts';
import type { Executor, Store } from '../store/store.ts';
import type { ApiKeyTable } from './tables.ts';

export interface ApiKeyView {
  id: string;
  tenantId: string;
  accountId: string;
  prefix: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const view = (k: ApiKeyTable): ApiKeyView => ({
  id: k.id, tenantId: k.tenant_id, accountId: k.account_id, prefix: k.prefix, name: k.name,
  createdAt: new Date(k.created_at).toISOString(), revokedAt: k.revoked_at ? new Date(k.revoked_at).toISOString() : null,
  lastUsedAt: k.last_used_at ? new Date(k.last_used_at).toISOString() : null,
});

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

// Keys read `fo_<prefix>_<secret>`: the prefix finds the row, the whole key is compared by hash.
const KEY_SHAPE = /^fo_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** Creates a key; the plain key is returned this once and never stored. */
export async function createApiKey(store: Store, actor: Actor, input: { tenantId: string; accountId: string; name?: unknown }): Promise<{ key: string; apiKey: ApiKeyView }> {
  const name = input.name === undefined ? 'default' : requireName('name', input.name, 100);
  return store.transaction(async (trx) => {
    const account = await trx.selectFrom('sending_accounts').select(['id', 'tenant_id', 'name']).where('id', '=', input.accountId).where('status', '!=', 'deleted').executeTakeFirst();
    if (!account || account.tenant_id !== input.tenantId) throw notFound('account');
    const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
    const key = `fo_${prefix}_${randomBytes(32).toString('base64url')}`;
    const now = Date.now();
    const row: ApiKeyTable = { id: newId('ak', now), tenant_id: account.tenant_id, account_id: account.id, prefix, key_hash: digest(key), name, created_at: now, revoked_at: null, last_used_at: null };
    await trx.insertInto('api_keys').values(row).execute();
    await recordOperation(trx, actor, { operation: 'apikey.create', objectType: 'apikey', objectId: row.id, tenantId: account.tenant_id, description: `created API key ${prefix} for account ${account.name}`, details: { name, prefix, accountId: account.id } });
    return { key, apiKey: view(row) };
  });
}

export async function listApiKeys(db: Executor, scope: { tenantId?: string | null; accountId?: string }): Promise<ApiKeyView[]> {
  let q = db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc');
  if (scope.tenantId) q = q.where('tenant_id', '=', scope.tenantId);
  if (scope.accountId) q = q.where('account_id', '=', scope.accountId);
  return (await q.execute()).map(view);
}

export async function revokeApiKey(store: Store, actor: Actor, id: string, scope: { tenantId?: string | null }): Promise<ApiKeyView> {
  return store.transaction(async (trx) => {
    const k = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!k || (scope.tenantId && k.tenant_id !== scope.tenantId)) throw notFound('API key');
    if (k.revoked_at) return view(k);
    const now = Date.now();
    await trx.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).execute();
    await recordOperation(trx, actor, { operation: 'apikey.revoke', objectType: 'apikey', objectId: id, tenantId: k.tenant_id, description: `revoked API key ${k.prefix}` });
    return view({ ...k, revoked_at: now });
  });
}

export interface ApiKeyPrincipal {
  keyId: string;
  prefix: string;
  tenantId: string;
  accountId: string;
}

/** The principal behind a presented key, or null for unknown, malformed or revoked keys. */
export async function authenticateApiKey(db: Executor, presented: string): Promise<ApiKeyPrincipal | null> {
  const m = KEY_SHAPE.exec(presented);
  if (!m) return null;
  const k = await db.selectFrom('api_keys').selectAll().where('prefix', '=', m[1]!).executeTakeFirst();
  if (!k || k.revoked_at) return null;
  const a = Buffer.from(k.key_hash, 'hex');
  const b = Buffer.from(digest(presented), 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
  const account = await db.selectFrom('sending_accounts').select(['status']).where('id', '=', k.account_id).executeTakeFirst();
  if (!account || account.status === 'deleted' || account.status === 'disabled') return null;
  // Last use is informative; a coarse update (once a minute) keeps the hot path read-only.
  const now = Date.now();
  if (!k.last_used_at || now - k.last_used_at > 60_000) {
    await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', k.id).execute();
  }
  return { keyId: k.id, prefix: k.prefix, tenantId: k.tenant_id, accountId: k.account_id };
}

