import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { conflict } from '../core/errors.ts';
import { DKIM_PRIVATE_KEY, seal } from '../store/sealed-fields.ts';
import { newId } from '../core/ids.ts';
import type { Store, Tx } from '../store/store.ts';
import { freeSelector, generateDkimKeyPair, publicKeyFingerprint } from './dkim.ts';
import { normalizeSelector } from './names.ts';
import { dnsRecords } from './records.ts';
import type { DnsRecord } from './records.ts';
import type { DkimKeyTable } from './tables.ts';
import { DEFAULT_RECORD_OPTIONS, getDomain, isUniqueViolation, lockDomain, parseCheck } from './views.ts';
import type { SendingDomainView } from './views.ts';

export interface RotationResult {
  domain: SendingDomainView;
  /** The selector that signed before; with activate: false it still does. */
  previousSelector: string;
  /** The DKIM record to publish for the new selector. */
  record: DnsRecord;
  activated: boolean;
}

/** A key row; the private key is sealed with the store's secret key before it is stored. */
function keyRow(store: Store, domainId: string, selector: string, pair: { privateKeyPem: string; publicKey: string }, now: number, active: boolean): DkimKeyTable {
  const id = newId('dk', now);
  return { id, domain_id: domainId, selector, algorithm: 'rsa-sha256', private_key_pem: seal(store, DKIM_PRIVATE_KEY, id, pair.privateKeyPem), public_key: pair.publicKey, active: active ? 1 : 0, created_at: now, retired_at: null };
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
      await trx.insertInto('dkim_keys').values(keyRow(store, domainId, next, pair, now, false)).execute();
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

