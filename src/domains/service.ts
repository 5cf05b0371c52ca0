import { DKIM_PRIVATE_KEY, seal } from '../store/sealed-fields.ts';
import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { conflict, invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Executor, Store, Tx } from '../store/store.ts';
import { freeSelector, generateDkimKeyPair, publicKeyFingerprint } from './dkim.ts';
import { isStrictSubdomain, normalizeDomainName, normalizeSelector } from './names.ts';
import { dnsRecords } from './records.ts';
import type { RecordOptions } from './records.ts';
import { checkRecords, defaultResolver, summarise } from './verify.ts';
import type { DnsResolver, VerificationReport } from './verify.ts';
import { DEFAULT_RECORD_OPTIONS, getDomain, isUniqueViolation, lockDomain } from './views.ts';
import type { SendingDomainView } from './views.ts';

// The capability's one entry point: other capabilities import from here only.
export { dnsRecords, zoneFileLine } from './records.ts';
export type { DnsRecord, RecordOptions } from './records.ts';
export type { DnsResolver, RecordCheck, VerificationReport } from './verify.ts';
export { activeDkimKey, canSendFrom, findDomainByReturnPath, findSendingDomain } from './sending.ts';
export type { ActiveDkimKey, SendingDomainInfo } from './sending.ts';
export { DEFAULT_RECORD_OPTIONS, getDomain, listDomains, resolveDomain } from './views.ts';
export type { DkimKeyView, SendingDomainView } from './views.ts';
export { activateDkimKey, rotateDkimKey } from './keys.ts';
export type { RotationResult } from './keys.ts';

async function assertReturnPathFree(trx: Tx, returnPathDomain: string): Promise<void> {
  const clash = await trx.selectFrom('sending_domains').select('domain')
    .where((eb) => eb.or([eb('return_path_domain', '=', returnPathDomain), eb('domain', '=', returnPathDomain)])).executeTakeFirst();
  if (clash) throw conflict(`return-path domain ${returnPathDomain} is already in use by a sending domain; each domain needs its own`);
}

export interface CreateDomainInput {
  tenantId: string;
  domain: string;
  selector?: string;
  returnPathDomain?: string;
}

export async function createDomain(store: Store, actor: Actor, input: CreateDomainInput): Promise<SendingDomainView> {
  const domain = normalizeDomainName('domain', input.domain);
  const returnPathDomain = input.returnPathDomain === undefined ? `bounces.${domain}` : normalizeDomainName('returnPathDomain', input.returnPathDomain);
  // Strictly below the domain: aligned for DMARC (relaxed SPF), and never the domain itself,
  // whose MX must stay with the bank's own mailboxes.
  if (!isStrictSubdomain(returnPathDomain, domain)) {
    throw invalid(`returnPathDomain must be a sub-domain of ${domain} (e.g. bounces.${domain})`, [{ field: 'returnPathDomain', message: `must be a sub-domain of ${domain}` }]);
  }
  if (typeof input.tenantId !== 'string' || !input.tenantId) throw invalid('tenantId is required', [{ field: 'tenantId', message: 'required' }]);
  const now = Date.now();
  const selector = input.selector === undefined ? freeSelector(now, new Set()) : normalizeSelector('selector', input.selector);
  const pair = await generateDkimKeyPair();
  try {
    return await store.transaction(async (trx) => {
      const tenant = await trx.selectFrom('tenants').select(['id', 'name']).where('id', '=', input.tenantId).executeTakeFirst();
      if (!tenant) throw notFound(`tenant "${input.tenantId}"`);
      const existing = await trx.selectFrom('sending_domains').select('tenant_id').where('domain', '=', domain).executeTakeFirst();
      if (existing) {
        throw conflict(existing.tenant_id === tenant.id ? `domain ${domain} already exists for this tenant` : `domain ${domain} is already registered to another tenant; a domain belongs to one tenant`);
      }
      const asReturnPath = await trx.selectFrom('sending_domains').select('domain').where('return_path_domain', '=', domain).executeTakeFirst();
      if (asReturnPath) throw conflict(`${domain} is the return-path domain of ${asReturnPath.domain}`);
      await assertReturnPathFree(trx, returnPathDomain);
      const id = newId('dm', now);
      await trx.insertInto('sending_domains').values({
        id, tenant_id: tenant.id, domain, dkim_selector: selector, return_path_domain: returnPathDomain, require_verification: 0,
        verified_at: null, last_check: null, created_at: now, updated_at: now,
      }).execute();
      const keyId = newId('dk', now);
      await trx.insertInto('dkim_keys').values({
        id: keyId, domain_id: id, selector, algorithm: 'rsa-sha256', private_key_pem: seal(store, DKIM_PRIVATE_KEY, keyId, pair.privateKeyPem), public_key: pair.publicKey,
        active: 1, created_at: now, retired_at: null,
      }).execute();
      await recordOperation(trx, actor, {
        operation: 'domain.create', objectType: 'domain', objectId: id, tenantId: tenant.id,
        description: `created sending domain ${domain} for tenant ${tenant.name} (DKIM selector ${selector})`,
        details: { domain, returnPathDomain, selector, keyFingerprint: publicKeyFingerprint(pair.publicKey), keyBits: 2048 },
      }, now);
      return getDomain(trx, id);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`domain ${domain} or return-path domain ${returnPathDomain} was registered at the same moment by another request`);
    throw err;
  }
}

/**
 * The DNS verdict alone: nothing stored, nothing logged. For health inspections, which look at
 * every domain on a schedule and must not fill the operation log.
 */
export async function checkDomainDns(domain: SendingDomainView, resolver: DnsResolver = defaultResolver(), records: RecordOptions = DEFAULT_RECORD_OPTIONS): Promise<VerificationReport> {
  const checks = await checkRecords(dnsRecords(domain, records), resolver);
  return summarise(domain.id, domain.domain, checks, Date.now());
}

/**
 * Looks up every record the domain needs and stores the result. DNS trouble never throws: it
 * is reported per record as lookup_failed. A definite failure clears verified_at (the records
 * were removed or changed); a lookup failure leaves it as it was, since it proves nothing.
 */
export async function verifyDomain(store: Store, actor: Actor, domainId: string, resolver: DnsResolver = defaultResolver(), records: RecordOptions = DEFAULT_RECORD_OPTIONS): Promise<VerificationReport> {
  const before = await getDomain(store.db, domainId);
  const report = await checkDomainDns(before, resolver, records);
  const { checks } = report;
  const now = Date.parse(report.checkedAt);
  await store.transaction(async (trx) => {
    const current = await lockDomain(trx, domainId);
    // A rotation between look-up and now would make this verdict about a key that no longer signs.
    if (current.dkim_selector !== before.dkimSelector) throw conflict('the DKIM key was rotated during verification; verify again');
    const verifiedAt = report.status === 'verified' ? (current.verified_at ?? now) : report.status === 'failed' ? null : current.verified_at;
    await trx.updateTable('sending_domains').set({ last_check: JSON.stringify(report), verified_at: verifiedAt, updated_at: now }).where('id', '=', domainId).execute();
    await recordOperation(trx, actor, {
      operation: 'domain.verify', objectType: 'domain', objectId: domainId, tenantId: before.tenantId,
      description: `checked DNS of ${before.domain}: ${report.status}`,
      details: { domain: before.domain, status: report.status, records: Object.fromEntries(checks.map((c) => [c.purpose, c.status])) },
    }, now);
  });
  return report;
}

export async function setRequireVerification(store: Store, actor: Actor, domainId: string, on: boolean): Promise<SendingDomainView> {
  if (typeof on !== 'boolean') throw invalid('requireVerification must be true or false', [{ field: 'requireVerification', message: 'must be a boolean' }]);
  return store.transaction(async (trx) => {
    const d = await lockDomain(trx, domainId);
    if ((d.require_verification === 1) === on) return getDomain(trx, domainId);
    const now = Date.now();
    await trx.updateTable('sending_domains').set({ require_verification: on ? 1 : 0, updated_at: now }).where('id', '=', domainId).execute();
    await recordOperation(trx, actor, {
      operation: 'domain.require_verification', objectType: 'domain', objectId: domainId, tenantId: d.tenant_id,
      description: on ? `mail from ${d.domain} now waits for DNS verification${d.verified_at === null ? ' (not verified yet: sending is held)' : ''}` : `mail from ${d.domain} no longer waits for DNS verification`,
      details: { domain: d.domain, requireVerification: on, verified: d.verified_at !== null },
    }, now);
    return getDomain(trx, domainId);
  });
}

/**
 * Other capabilities say whether a domain is still in use (messages queued or in flight that
 * would lose their DKIM key). Registered at start-up; deletion is refused while any reports use.
 */
export type DomainUsageCheck = (db: Executor, domain: { id: string; domain: string }) => Promise<string | null>;
const usageChecks: DomainUsageCheck[] = [];

export function registerDomainUsageCheck(check: DomainUsageCheck): () => void {
  usageChecks.push(check);
  return () => {
    const i = usageChecks.indexOf(check);
    if (i >= 0) usageChecks.splice(i, 1);
  };
}

/** Removes the domain and its keys. Refused while a usage check reports mail that still needs them. */
export async function deleteDomain(store: Store, actor: Actor, domainId: string): Promise<void> {
  await store.transaction(async (trx) => {
    const d = await lockDomain(trx, domainId);
    for (const check of usageChecks) {
      const use = await check(trx, { id: d.id, domain: d.domain });
      if (use) throw conflict(`domain ${d.domain} cannot be deleted while it is in use: ${use}`);
    }
    const keys = await trx.selectFrom('dkim_keys').select(['selector', 'public_key']).where('domain_id', '=', domainId).execute();
    await trx.deleteFrom('dkim_keys').where('domain_id', '=', domainId).execute();
    await trx.deleteFrom('sending_domains').where('id', '=', domainId).execute();
    await recordOperation(trx, actor, {
      operation: 'domain.delete', objectType: 'domain', objectId: domainId, tenantId: d.tenant_id,
      description: `deleted sending domain ${d.domain} and its ${keys.length} DKIM key(s)`,
      details: { domain: d.domain, returnPathDomain: d.return_path_domain, selectors: keys.map((k) => k.selector), keyFingerprints: keys.map((k) => publicKeyFingerprint(k.public_key)) },
    });
  });
}
