import type { Actor } from '../audit/index.ts';
import type { Store } from '../store/store.ts';

export const operator: Actor = { operator: 'li.operator', clientIp: '10.1.1.1', role: 'operator' };

/** A bare tenant row for tests; the tenants capability's own service is not needed here. */
export async function makeTenant(store: Store, id: string): Promise<string> {
  const now = Date.now();
  await store.db.insertInto('tenants').values({ id, name: `tenant ${id}`, account_type: 'bulk', status: 'active', created_at: now, updated_at: now }).execute();
  return id;
}
