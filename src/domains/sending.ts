import { DKIM_PRIVATE_KEY, unseal } from '../store/sealed-fields.ts';
import type { Executor, Store } from '../store/store.ts';
import { tryNormalizeDomainName } from './names.ts';
import type { SendingDomainTable } from './tables.ts';

/** What the delivery engine and the bounce listener need to know about a sending domain. */
export interface SendingDomainInfo {
  id: string;
  tenantId: string;
  domain: string;
  returnPathDomain: string;
  requireVerification: boolean;
  verified: boolean;
}

export interface ActiveDkimKey {
  domain: string;
  selector: string;
  privateKeyPem: string;
}

function info(r: Pick<SendingDomainTable, 'id' | 'tenant_id' | 'domain' | 'return_path_domain' | 'require_verification' | 'verified_at'>): SendingDomainInfo {
  return { id: r.id, tenantId: r.tenant_id, domain: r.domain, returnPathDomain: r.return_path_domain, requireVerification: r.require_verification === 1, verified: r.verified_at !== null };
}

const INFO_COLUMNS = ['id', 'tenant_id', 'domain', 'return_path_domain', 'require_verification', 'verified_at'] as const;

/** The sending domain registered under exactly this name (any case, Unicode or A-label), or null. */
export async function findSendingDomain(db: Executor, domain: string): Promise<SendingDomainInfo | null> {
  const name = tryNormalizeDomainName(domain);
  if (!name) return null;
  const row = await db.selectFrom('sending_domains').select(INFO_COLUMNS).where('domain', '=', name).executeTakeFirst();
  return row ? info(row) : null;
}

/** The sending domain whose return-path (bounce) domain this is, or null. */
export async function findDomainByReturnPath(db: Executor, returnPathDomain: string): Promise<SendingDomainInfo | null> {
  const name = tryNormalizeDomainName(returnPathDomain);
  if (!name) return null;
  const row = await db.selectFrom('sending_domains').select(INFO_COLUMNS).where('return_path_domain', '=', name).executeTakeFirst();
  return row ? info(row) : null;
}

/**
 * The key that signs new mail for the domain (d= domain, s= selector), or null when there is
 * none. The private key is stored sealed; it is opened here, for the signer only.
 */
export async function activeDkimKey(store: Store, domainId: string): Promise<ActiveDkimKey | null> {
  const row = await store.db.selectFrom('dkim_keys')
    .innerJoin('sending_domains', 'sending_domains.id', 'dkim_keys.domain_id')
    .select(['dkim_keys.id', 'sending_domains.domain', 'dkim_keys.selector', 'dkim_keys.private_key_pem'])
    .where('dkim_keys.domain_id', '=', domainId).where('dkim_keys.active', '=', 1)
    .orderBy('dkim_keys.created_at', 'desc')
    .executeTakeFirst();
  return row ? { domain: row.domain, selector: row.selector, privateKeyPem: unseal(store, DKIM_PRIVATE_KEY, row.id, row.private_key_pem) } : null;
}

/**
 * Machines without DNS must still send: an unverified domain sends (the caller warns) unless an
 * administrator has switched verification on for it.
 */
export function canSendFrom(domain: { requireVerification: boolean; verified: boolean }): boolean {
  return !domain.requireVerification || domain.verified;
}
