import { isIP } from 'node:net';
import { recordOptionsFromConfig } from '../../../domains/index.ts';
import { checkDomainDns, listDomains } from '../../../domains/index.ts';
import type { RecordCheck } from '../../../domains/index.ts';
import type { OpsDeps } from '../../context.ts';
import type { OpsResolver } from '../resolver.ts';
import { dnsError, isNoRecord } from '../resolver.ts';
import type { CheckContext, CheckDefinition, CheckResult, CheckStatus } from '../types.ts';
import { result } from '../types.ts';

/** Public addresses receivers see: the configured source addresses and the extra (NAT) ones. */
export function sourceAddresses(deps: OpsDeps): string[] {
  return [...new Set([...deps.config.delivery.egress.sourceIps, ...deps.config.operations.blocklist.ips].map((ip) => ip.trim()).filter((ip) => isIP(ip)))];
}

function judge(checks: RecordCheck[]): { status: CheckStatus; message: string } {
  if (!checks.length) return { status: 'unavailable', message: 'no record of this kind is expected' };
  const failing = checks.filter((c) => c.status === 'missing' || c.status === 'mismatch');
  if (failing.some((c) => c.required)) return { status: 'error', message: failing.map((c) => c.message).join('; ') };
  if (checks.some((c) => c.status === 'lookup_failed')) return { status: 'unavailable', message: `DNS did not answer: ${checks.filter((c) => c.status === 'lookup_failed').map((c) => c.error ?? c.message).join('; ')}` };
  if (failing.length) return { status: 'warning', message: failing.map((c) => `(recommended) ${c.message}`).join('; ') };
  return { status: 'ok', message: checks.map((c) => c.message).join('; ') };
}

const KEYS: [string, RecordCheck['purpose'][]][] = [
  ['dns.spf', ['spf', 'return_path_spf']],
  ['dns.dkim', ['dkim']],
  ['dns.dmarc', ['dmarc']],
  ['dns.mx', ['return_path_mx']],
];

interface PtrFinding { ip: string; status: CheckStatus; names: string[]; confirmed: boolean; message: string }

async function ptrOf(resolver: OpsResolver, ip: string, helo: string): Promise<PtrFinding> {
  try {
    const names = (await resolver.reverse(ip)).map((n) => n.toLowerCase().replace(/\.$/, ''));
    if (!names.length) return { ip, status: 'error', names, confirmed: false, message: `${ip} has no PTR record` };
    // Forward-confirmed reverse DNS: the name must resolve back to the address.
    let confirmed = false;
    for (const n of names) {
      const forward = await (isIP(ip) === 6 ? resolver.resolve6(n) : resolver.resolve4(n)).catch(() => [] as string[]);
      if (forward.includes(ip)) confirmed = true;
    }
    if (!confirmed) return { ip, status: 'error', names, confirmed, message: `${ip} → ${names.join(', ')}, which does not resolve back to ${ip} (no forward-confirmed reverse DNS)` };
    const matches = names.includes(helo.toLowerCase());
    return { ip, status: matches ? 'ok' : 'warning', names, confirmed, message: matches ? `${ip} → ${names.join(', ')} (forward-confirmed, matches the HELO name)` : `${ip} → ${names.join(', ')} (forward-confirmed) but the HELO name is ${helo}` };
  } catch (err) {
    if (isNoRecord(err)) return { ip, status: 'error', names: [], confirmed: false, message: `${ip} has no PTR record` };
    return { ip, status: 'unavailable', names: [], confirmed: false, message: `PTR of ${ip}: DNS did not answer (${dnsError(err)})` };
  }
}

/**
 * Per sending domain: SPF (domain and return path), DKIM, DMARC, the return path's MX; per
 * source address PTR; and per domain the large providers' bulk-sender rules (Gmail and Yahoo
 * since 2024, Microsoft since 2025): SPF and DKIM valid, DMARC published, From aligned with DKIM
 * and the return path, forward-confirmed reverse DNS, one-click unsubscribe and TLS.
 */
async function runDnsChecks({ deps, resolver }: CheckContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const helo = deps.config.delivery.heloName;
  const ips = sourceAddresses(deps);
  const ptrs = await Promise.all(ips.map((ip) => ptrOf(resolver, ip, helo)));
  if (!ips.length) out.push(result('dns.ptr', 'dns', 'unavailable', 'no public source address configured (delivery.egress.sourceIps or operations.blocklist.ips)'));
  for (const p of ptrs) out.push(result('dns.ptr', 'dns', p.status, p.message, { names: p.names, forwardConfirmed: p.confirmed, helo }, null, { subject: p.ip }));

  const domains = await listDomains(deps.store.db);
  if (!domains.length) out.push(result('dns.spf', 'dns', 'unavailable', 'no sending domain is registered yet'));
  const options = recordOptionsFromConfig(deps.config);
  for (const d of domains) {
    const report = await checkDomainDns(d, resolver, options);
    const verdicts = new Map<string, CheckStatus>();
    for (const [key, purposes] of KEYS) {
      const checks = report.checks.filter((c) => purposes.includes(c.purpose));
      const v = judge(checks);
      verdicts.set(key, v.status);
      out.push(result(key, 'dns', v.status, v.message, checks.map((c) => ({ name: c.name, type: c.type, status: c.status, found: c.found, expected: c.expected, required: c.required })), null, { subject: d.domain }));
    }
    const rules = {
      spf: verdicts.get('dns.spf') === 'ok' || verdicts.get('dns.spf') === 'warning',
      dkim: verdicts.get('dns.dkim') === 'ok',
      dmarc: verdicts.get('dns.dmarc') === 'ok',
      // Fanout signs with d=<domain> and uses a return path below it: both align with From.
      dkimAligned: true,
      spfAligned: d.returnPathDomain === d.domain || d.returnPathDomain.endsWith(`.${d.domain}`),
      reverseDns: ptrs.length ? ptrs.every((p) => p.confirmed) : null,
      oneClickUnsubscribe: true,
      tls: true,
    };
    const unknown = [...verdicts.values()].includes('unavailable') || rules.reverseDns === null;
    const unmet = Object.entries(rules).filter(([, ok]) => ok === false).map(([k]) => k);
    out.push(result('dns.bulk_sender', 'dns', unmet.length ? 'warning' : unknown ? 'unavailable' : 'ok',
      unmet.length ? `bulk-sender rules of Gmail, Yahoo and Microsoft not met: ${unmet.join(', ')}` : unknown ? 'not every bulk-sender rule could be checked (DNS did not answer or no source address is configured)' : 'meets the bulk-sender rules of Gmail, Yahoo and Microsoft',
      rules, null, { subject: d.domain }));
  }
  return out;
}

export const dnsChecks: CheckDefinition[] = [{ key: 'dns', light: false, timeoutMs: 60_000, run: runDnsChecks }];
