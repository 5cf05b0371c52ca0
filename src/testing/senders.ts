import type { Actor } from '../audit/index.ts';
import { createAccount } from '../accounts/index.ts';
import type { SendingAccount } from '../accounts/index.ts';
import { createDomain } from '../domains/index.ts';
import { createTenant } from '../tenants/index.ts';
import type { Store } from '../store/store.ts';

/** Test and benchmark data made through the real services (tenant, domain with DKIM key, account). */
export const TEST_ADMIN: Actor = { operator: 'test-admin', clientIp: '127.0.0.1', role: 'administrator' };

export interface SenderFixture {
  tenantId: string;
  domain: string;
  account: SendingAccount;
  password: string;
}

export async function makeSender(store: Store, options: { name: string; domain: string; accountType?: 'bulk' | 'transactional'; quota?: number | null; allowIps?: string[]; password?: string | null; maxConnections?: number; messagesPerMinute?: number }): Promise<SenderFixture> {
  const tenant = await createTenant(store, TEST_ADMIN, { name: `${options.name}-tenant`, accountType: options.accountType ?? 'transactional' });
  await createDomain(store, TEST_ADMIN, { tenantId: tenant.id, domain: options.domain });
  const password = options.password === undefined ? 'correct horse battery staple' : options.password;
  const account = await createAccount(store, TEST_ADMIN, {
    tenantId: tenant.id, name: options.name, password: password ?? undefined, quota: options.quota ?? null,
    allowIps: options.allowIps, maxConnections: options.maxConnections, messagesPerMinute: options.messagesPerMinute,
  });
  return { tenantId: tenant.id, domain: options.domain, account, password: password ?? '' };
}
