import type { Actor } from '../audit/log.ts';
import { recordOperation } from '../audit/log.ts';
import { conflict, invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Executor, Store, Tx } from '../store/store.ts';
import { freeSelector, generateDkimKeyPair, publicKeyFingerprint } from './dkim.ts';
import { isStrictSubdomain, normalizeDomainName, normalizeSelector, tryNormalizeDomainName, unicodeName } from './names.ts';
import { dnsRecords } from './records.ts';
import type { DnsRecord, RecordOptions } from './records.ts';
import type { DkimKeyTable, SendingDomainTable } from './tables.ts';
import { checkRecords, defaultResolver, summarise } from './verify.ts';
import type { DnsResolver, VerificationReport } from './verify.ts';

export { dnsRecords, zoneFileLine } from './records.ts';
export type { DnsRecord, RecordOptions } from './records.ts';
export type { DnsResolver, RecordCheck, VerificationReport } from './verify.ts';
export { activeDkimKey, canSendFrom, findDomainByReturnPath, findSendingDomain } from './sending.ts';
export type { ActiveDkimKey, SendingDomainInfo } from './sending.ts';

export interface DkimKeyView {
  selector: string;
  algorithm: string;
  active: boolean;
  /** Base64 DER public key (the DNS p=); the private key never leaves the store. */
  publicKey: string;
  fingerprint: string;
  createdAt: string;
  retiredAt: string | null;
}

export interface SendingDomainView {
  id: string;
  tenantId: string;
  /** A-label, lowercase: what DNS, DKIM d= and envelope addresses use. */
  domain: string;
  /** The same name in Unicode, for people. */
  domainUnicode: string;
  returnPathDomain: string;
  dkimSelector: string;
  dkimPublicKey: string;
  /** A prepared key (rotate with activate: false): published first, activated later. */
  pendingDkim: { selector: string; publicKey: string } | null;
  requireVerification: boolean;
  verified: boolean;
  verifiedAt: string | null;
  /** May the domain send now (false only when verification is required and has not passed). */
  canSend: boolean;
  lastCheck: VerificationReport | null;
  dkimKeys: DkimKeyView[];
  createdAt: string;
  updatedAt: string;
}

/** Defaults when the caller has no configuration at hand: the platform's default host name. */
export const DEFAULT_RECORD_OPTIONS: RecordOptions = { mxHost: 'fanout.local' };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function parseCheck(text: string | null): VerificationReport | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as VerificationReport;
  } catch {
    return null;
  }
}

function toView(d: SendingDomainTable, keys: DkimKeyTable[]): SendingDomainView {
  const active = keys.find((k) => k.active === 1 && k.selector === d.dkim_selector) ?? keys.find((k) => k.active === 1);
  const pending = keys.find((k) => k.active === 0 && k.retired_at === null);
  const requireVerification = d.require_verification === 1;
  const verified = d.verified_at !== null;
  return {
    id: d.id, tenantId: d.tenant_id, domain: d.domain, domainUnicode: unicodeName(d.domain), returnPathDomain: d.return_path_domain,
    dkimSelector: d.dkim_selector, dkimPublicKey: active?.public_key ?? '',
    pendingDkim: pending ? { selector: pending.selector, publicKey: pending.public_key } : null,
    requireVerification, verified, verifiedAt: iso(d.verified_at), canSend: !requireVerification || verified,
    lastCheck: parseCheck(d.last_check),
    dkimKeys: [...keys].sort((a, b) => b.created_at - a.created_at).map((k) => ({
      selector: k.selector, algorithm: k.algorithm, active: k.active === 1, publicKey: k.public_key, fingerprint: publicKeyFingerprint(k.public_key),
      createdAt: iso(k.created_at)!, retiredAt: iso(k.retired_at),
    })),
    createdAt: iso(d.created_at)!, updatedAt: iso(d.updated_at)!,
  };
}

// Every key column except the private key: views are built from these and nothing else.
const PUBLIC_KEY_COLUMNS = ['id', 'domain_id', 'selector', 'algorithm', 'public_key', 'active', 'created_at', 'retired_at'] as const;

async function viewsOf(db: Executor, rows: SendingDomainTable[]): Promise<SendingDomainView[]> {
  if (!rows.length) return [];
  const keys = await db.selectFrom('dkim_keys').select(PUBLIC_KEY_COLUMNS).where('domain_id', 'in', rows.map((r) => r.id)).execute();
  const byDomain = new Map<string, DkimKeyTable[]>();
  for (const k of keys) {
    const list = byDomain.get(k.domain_id) ?? [];
    list.push({ ...k, private_key_pem: '' });
    byDomain.set(k.domain_id, list);
  }
  return rows.map((r) => toView(r, byDomain.get(r.id) ?? []));
}

export async function getDomain(db: Executor, id: string): Promise<SendingDomainView> {
  const row = await db.selectFrom('sending_domains').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('sending domain');
  return (await viewsOf(db, [row]))[0]!;
}

export async function listDomains(db: Executor, filter: { tenantId?: string | null } = {}): Promise<SendingDomainView[]> {
  let q = db.selectFrom('sending_domains').selectAll().orderBy('domain');
  if (filter.tenantId) q = q.where('tenant_id', '=', filter.tenantId);
  return viewsOf(db, await q.execute());
}

/** A domain by id or by name (as the CLI's `domains verify D` accepts either). */
export async function resolveDomain(db: Executor, idOrName: string): Promise<SendingDomainView> {
  const name = tryNormalizeDomainName(idOrName);
  const row = await db.selectFrom('sending_domains').selectAll()
    .where((eb) => (name ? eb.or([eb('id', '=', idOrName), eb('domain', '=', name)]) : eb('id', '=', idOrName)))
    .executeTakeFirst();
  if (!row) throw notFound(`sending domain "${idOrName}"`);
  return (await viewsOf(db, [row]))[0]!;
}

/**
 * Reads a domain row for a change, holding its row lock until the transaction ends (a no-op
 * UPDATE locks in PostgreSQL; SQLite serialises writers anyway), so two rotations, or a
 * rotation and a verification, never interleave.
 */
async function lockDomain(trx: Tx, id: string): Promise<SendingDomainTable> {
  const touched = await trx.updateTable('sending_domains').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', id).executeTakeFirst();
  if (Number(touched.numUpdatedRows) === 0) throw notFound('sending domain');
  return trx.selectFrom('sending_domains').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Unique-index violations on either engine, turned into the conflict a racing writer deserves. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

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
      await trx.insertInto('dkim_keys').values({
        id: newId('dk', now), domain_id: id, selector, algorithm: 'rsa-sha256', private_key_pem: pair.privateKeyPem, public_key: pair.publicKey,
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

export interface RotationResult {
  domain: SendingDomainView;
  /** The selector that signed before; with activate: false it still does. */
  previousSelector: string;
  /** The DKIM record to publish for the new selector. */
  record: DnsRecord;
  activated: boolean;
}

function keyRow(domainId: string, selector: string, pair: { privateKeyPem: string; publicKey: string }, now: number, active: boolean): DkimKeyTable {
  return { id: newId('dk', now), domain_id: domainId, selector, algorithm: 'rsa-sha256', private_key_pem: pair.privateKeyPem, public_key: pair.publicKey, active: active ? 1 : 0, created_at: now, retired_at: null };
}

/** Retires the signing key and makes `selector` the one that signs. */
async function switchActiveKey(trx: Tx, domainId: string, selector: string, keepVerified: boolean, now: number): Promise<void> {
  await trx.updateTable('dkim_keys').set({ active: 0, retired_at: now }).where('domain_id', '=', domainId).where('active', '=', 1).execute();
  await trx.updateTable('dkim_keys').set({ active: 1 }).where('domain_id', '=', domainId).where('selector', '=', selector).execute();
  await trx.updateTable('sending_domains').set({ dkim_selector: selector, updated_at: now, ...(keepVerified ? {} : { verified_at: null }) }).where('id', '=', domainId).execute();
}

/**
 * A new key under a new selector. By default it signs from now on (the brief's rotation): the
 * previous key stays in the store, retired, and its DNS record should stay published for some
 * days so mail in flight verifies; verified_at is cleared, the new record being unproven.
 * With activate: false the key is only prepared: its record can be published and verified
 * while the old key goes on signing, and activateDkimKey switches without a gap.
 */
export async function rotateDkimKey(store: Store, actor: Actor, domainId: string, selector?: string, options: { activate?: boolean } = {}): Promise<RotationResult> {
  const activate = options.activate ?? true;
  const wanted = selector === undefined ? undefined : normalizeSelector('selector', selector);
  const pair = await generateDkimKeyPair();
  try {
    return await store.transaction(async (trx) => {
      const d = await lockDomain(trx, domainId);
      const keys = await trx.selectFrom('dkim_keys').select(['selector', 'active', 'retired_at']).where('domain_id', '=', domainId).execute();
      const pending = keys.find((k) => k.active === 0 && k.retired_at === null);
      if (pending && !activate) throw conflict(`a prepared key (selector ${pending.selector}) is waiting for ${d.domain}; activate it first`);
      const taken = new Set(keys.map((k) => k.selector));
      const now = Date.now();
      if (wanted && taken.has(wanted)) throw conflict(`selector ${wanted} was already used for ${d.domain}; choose a new one so receivers never see two keys under one name`);
      const next = wanted ?? freeSelector(now, taken);
      // A prepared key never signed anything: an immediate rotation replaces it outright.
      if (pending) await trx.deleteFrom('dkim_keys').where('domain_id', '=', domainId).where('selector', '=', pending.selector).execute();
      await trx.insertInto('dkim_keys').values(keyRow(domainId, next, pair, now, false)).execute();
      if (activate) await switchActiveKey(trx, domainId, next, false, now);
      await recordOperation(trx, actor, {
        operation: activate ? 'domain.rotate_dkim' : 'domain.prepare_dkim', objectType: 'domain', objectId: domainId, tenantId: d.tenant_id,
        description: activate ? `rotated the DKIM key of ${d.domain}: selector ${d.dkim_selector} retired, ${next} active`
          : `prepared DKIM selector ${next} for ${d.domain}; ${d.dkim_selector} signs until it is activated`,
        details: { domain: d.domain, previousSelector: d.dkim_selector, selector: next, activated: activate, discardedPendingSelector: pending?.selector ?? null, keyFingerprint: publicKeyFingerprint(pair.publicKey), keyBits: 2048 },
      }, now);
      const view = await getDomain(trx, domainId);
      const record = dnsRecords(view, DEFAULT_RECORD_OPTIONS).find((r) => r.purpose === (activate ? 'dkim' : 'dkim_next'))!;
      return { domain: view, previousSelector: d.dkim_selector, record, activated: activate };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('another rotation of this domain ran at the same moment; try again');
    throw err;
  }
}

/**
 * Makes the prepared key sign. The domain stays verified when the last verification saw the
 * prepared key's record published; otherwise it must be verified again.
 */
export async function activateDkimKey(store: Store, actor: Actor, domainId: string): Promise<SendingDomainView> {
  return store.transaction(async (trx) => {
    const d = await lockDomain(trx, domainId);
    const pending = await trx.selectFrom('dkim_keys').select(['selector', 'public_key']).where('domain_id', '=', domainId).where('active', '=', 0).where('retired_at', 'is', null).executeTakeFirst();
    if (!pending) throw conflict(`${d.domain} has no prepared DKIM key; prepare one with a rotation that does not activate`);
    const last = parseCheck(d.last_check);
    const seen = last?.checks.some((c) => c.purpose === 'dkim_next' && c.status === 'ok' && c.name.startsWith(`${pending.selector}._domainkey.`)
      && c.expected.endsWith(`p=${pending.public_key}`)) ?? false;
    const now = Date.now();
    await switchActiveKey(trx, domainId, pending.selector, seen && d.verified_at !== null, now);
    await recordOperation(trx, actor, {
      operation: 'domain.activate_dkim', objectType: 'domain', objectId: domainId, tenantId: d.tenant_id,
      description: `activated DKIM selector ${pending.selector} for ${d.domain}; ${d.dkim_selector} retired`,
      details: { domain: d.domain, previousSelector: d.dkim_selector, selector: pending.selector, recordSeenPublished: seen, keyFingerprint: publicKeyFingerprint(pending.public_key) },
    }, now);
    return getDomain(trx, domainId);
  });
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
