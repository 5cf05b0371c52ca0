import { notFound } from '../core/errors.ts';
import type { Executor, Tx } from '../store/store.ts';
import { publicKeyFingerprint } from './dkim.ts';
import { tryNormalizeDomainName, unicodeName } from './names.ts';
import type { RecordOptions } from './records.ts';
import type { DkimKeyTable, SendingDomainTable } from './tables.ts';
import type { VerificationReport } from './verify.ts';

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

export function parseCheck(text: string | null): VerificationReport | null {
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
export async function lockDomain(trx: Tx, id: string): Promise<SendingDomainTable> {
  const touched = await trx.updateTable('sending_domains').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', id).executeTakeFirst();
  if (Number(touched.numUpdatedRows) === 0) throw notFound('sending domain');
  return trx.selectFrom('sending_domains').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Unique-index violations on either engine, turned into the conflict a racing writer deserves. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

