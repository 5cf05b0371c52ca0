import { Resolver } from 'node:dns/promises';
import type { DnsRecord, DnsRecordPurpose } from './records.ts';
import { checkSpf } from './spf.ts';

/** The two look-ups verification needs; node:dns/promises has this shape, tests inject fakes. */
export interface DnsResolver {
  resolveTxt(name: string): Promise<string[][]>;
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
}

export type CheckStatus = 'ok' | 'missing' | 'mismatch' | 'lookup_failed';

export interface RecordCheck {
  purpose: DnsRecordPurpose;
  type: DnsRecord['type'];
  name: string;
  expected: string;
  required: boolean;
  status: CheckStatus;
  /** What DNS answered (TXT strings joined per record, MX as "priority host"). */
  found: string[];
  /** Set for lookup_failed: the resolver's error. */
  error?: string;
  /** A sentence for the administrator. */
  message: string;
}

export interface VerificationReport {
  domainId: string;
  domain: string;
  checkedAt: string;
  /** verified: every required record passes; failed: one is missing or wrong; lookup_failed: DNS gave no answer. */
  status: 'verified' | 'failed' | 'lookup_failed';
  verified: boolean;
  checks: RecordCheck[];
  /** Messages of every check that is not ok, required ones first. */
  problems: string[];
}

const LOOKUP_TIMEOUT_MS = 3000;

/**
 * node's resolver with one short try: a machine without DNS must get its answer (lookup_failed)
 * in seconds, not after c-ares' default retries. The race guards against a resolver that hangs.
 */
export function defaultResolver(timeoutMs = LOOKUP_TIMEOUT_MS, servers?: string[]): DnsResolver {
  const make = () => {
    const r = new Resolver({ timeout: timeoutMs, tries: 1 });
    if (servers) r.setServers(servers);
    return r;
  };
  const withDeadline = async <T>(run: (r: Resolver) => Promise<T>): Promise<T> => {
    const r = make();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        r.cancel();
        reject(Object.assign(new Error(`DNS lookup timed out after ${timeoutMs * 2} ms`), { code: 'ETIMEOUT' }));
      }, timeoutMs * 2);
    });
    try {
      return await Promise.race([run(r), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    resolveTxt: (name) => withDeadline((r) => r.resolveTxt(name)),
    resolveMx: (name) => withDeadline((r) => r.resolveMx(name)),
  };
}

// NXDOMAIN and "no records of this type" are answers: the record is missing. Anything else
// (timeouts, refused, SERVFAIL, no network) means we do not know.
const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN', 'ENONAME']);

type Lookup<T> = { ok: true; value: T } | { ok: false; missing: boolean; error: string };

async function lookup<T>(run: () => Promise<T>): Promise<Lookup<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, missing: typeof code === 'string' && NO_RECORD.has(code), error: typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message };
  }
}

const lower = (s: string) => s.trim().toLowerCase();
const host = (s: string) => lower(s).replace(/\.$/, '');

function tags(record: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(lower(part.slice(0, eq)), part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return out;
}

function checkDkim(expected: string, found: string[]): Pick<RecordCheck, 'status' | 'message'> {
  if (!found.length) return { status: 'missing', message: 'no DKIM key record' };
  const want = tags(expected).get('p');
  if (found.some((f) => tags(f).get('p') === want)) return { status: 'ok', message: "the DKIM key record matches Fanout's key" };
  const revoked = found.some((f) => tags(f).get('p') === '');
  return { status: 'mismatch', message: revoked ? 'the DKIM record is revoked (empty p=)' : "the DKIM record holds a different public key than Fanout's" };
}

function checkDmarc(found: string[]): Pick<RecordCheck, 'status' | 'message'> {
  const dmarc = found.filter((t) => /^v=DMARC1\s*(;|$)/i.test(t.trim()));
  if (!dmarc.length) return { status: found.length ? 'mismatch' : 'missing', message: found.length ? 'the _dmarc record does not start with v=DMARC1' : 'no DMARC record' };
  if (dmarc.length > 1) return { status: 'mismatch', message: `${dmarc.length} DMARC records: receivers ignore DMARC when there is more than one` };
  const p = tags(dmarc[0]!).get('p');
  if (!p || !['none', 'quarantine', 'reject'].includes(lower(p))) return { status: 'mismatch', message: 'the DMARC record has no valid p= policy' };
  // Any valid policy passes: a bank's stricter existing policy is better than our p=none.
  return { status: 'ok', message: `DMARC policy p=${lower(p)}` };
}

/**
 * Receivers that find no record at _dmarc.<domain> apply the organisational domain's policy
 * (RFC 7489 §6.6.3; its sp= when set). Without the public-suffix list the parents are tried
 * upwards while at least two labels remain; a record on a public suffix is not expected to exist.
 */
async function inheritedDmarc(name: string, resolver: DnsResolver): Promise<{ name: string; record: string; policy: string } | null> {
  const labels = name.replace(/^_dmarc\./, '').split('.');
  for (let i = 1; labels.length - i >= 2; i++) {
    const parent = `_dmarc.${labels.slice(i).join('.')}`;
    const r = await lookup(() => resolver.resolveTxt(parent));
    if (!r.ok) {
      if (r.missing) continue;
      return null;
    }
    const found = r.value.map((chunks) => chunks.join(''));
    if (checkDmarc(found).status !== 'ok') return null;
    const record = found.find((t) => /^v=DMARC1/i.test(t.trim()))!;
    const t = tags(record);
    return { name: parent, record, policy: lower(t.get('sp') || t.get('p') || 'none') };
  }
  return null;
}

const LABELS: Record<DnsRecordPurpose, string> = { spf: 'SPF', dkim: 'DKIM key', dkim_next: 'next DKIM key', dmarc: 'DMARC', return_path_mx: 'MX', return_path_spf: 'return-path SPF' };

async function checkOne(record: DnsRecord, resolver: DnsResolver): Promise<RecordCheck> {
  const base = { purpose: record.purpose, type: record.type, name: record.name, expected: record.type === 'MX' ? `${record.priority ?? 10} ${record.value}` : record.value, required: record.required };
  if (record.type === 'MX') {
    const r = await lookup(() => resolver.resolveMx(record.name));
    if (!r.ok) return r.missing ? { ...base, status: 'missing', found: [], message: `no MX record at ${record.name}` } : { ...base, status: 'lookup_failed', found: [], error: r.error, message: `MX lookup for ${record.name} failed: ${r.error}` };
    const found = r.value.map((m) => `${m.priority} ${host(m.exchange)}`);
    if (!found.length) return { ...base, status: 'missing', found, message: `no MX record at ${record.name}` };
    return r.value.some((m) => host(m.exchange) === host(record.value))
      ? { ...base, status: 'ok', found, message: `MX points at ${record.value}` }
      : { ...base, status: 'mismatch', found, message: `MX of ${record.name} does not point at ${record.value} (found ${found.join(', ')})` };
  }
  const r = await lookup(() => resolver.resolveTxt(record.name));
  if (record.purpose === 'dmarc' && !r.ok && r.missing) {
    const inherited = await inheritedDmarc(record.name, resolver);
    if (inherited) return { ...base, status: 'ok', found: [inherited.record], message: `DMARC policy p=${inherited.policy} inherited from ${inherited.name}` };
  }
  if (!r.ok) return r.missing ? { ...base, status: 'missing', found: [], message: `no ${LABELS[record.purpose]} record at ${record.name}` } : { ...base, status: 'lookup_failed', found: [], error: r.error, message: `TXT lookup for ${record.name} failed: ${r.error}` };
  const found = r.value.map((chunks) => chunks.join(''));
  const verdict = record.purpose === 'dkim' || record.purpose === 'dkim_next' ? checkDkim(record.value, found)
    : record.purpose === 'dmarc' ? checkDmarc(found)
      : await checkSpf(record.value, found, (name) => resolver.resolveTxt(name));
  const message = verdict.status === 'ok' ? verdict.message : `${record.name}: ${verdict.message}`;
  return { ...base, ...verdict, found, message };
}

/** Looks every record up (in parallel) and judges each; never throws for DNS trouble. */
export async function checkRecords(records: DnsRecord[], resolver: DnsResolver): Promise<RecordCheck[]> {
  const checks = await Promise.all(records.map((r) => checkOne(r, resolver)));
  // What DNS answered is stored and shown: bounded, since anyone can publish 64 KB of TXT.
  return checks.map((c) => ({ ...c, found: c.found.slice(0, MAX_FOUND).map((f) => (f.length > MAX_FOUND_CHARS ? `${f.slice(0, MAX_FOUND_CHARS)}…` : f)) }));
}

const MAX_FOUND = 10;
const MAX_FOUND_CHARS = 1024;

export function summarise(domainId: string, domain: string, checks: RecordCheck[], now: number): VerificationReport {
  const required = checks.filter((c) => c.required);
  const status: VerificationReport['status'] = required.every((c) => c.status === 'ok') ? 'verified'
    : required.some((c) => c.status === 'missing' || c.status === 'mismatch') ? 'failed' : 'lookup_failed';
  const problems = [...checks].filter((c) => c.status !== 'ok').sort((a, b) => Number(b.required) - Number(a.required))
    .map((c) => `${c.required ? '' : '(recommended) '}${c.message}`);
  return { domainId, domain, checkedAt: new Date(now).toISOString(), status, verified: status === 'verified', checks, problems };
}
