import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { OpsResolver } from '../resolver.ts';
import { dnsError, isNoRecord } from '../resolver.ts';
import type { CheckDefinition, CheckResult } from '../types.ts';
import { result } from '../types.ts';
import { sourceAddresses } from './dns.ts';

/** The DNSBL query name: reversed octets (IPv4) or nibbles (IPv6) under the zone. */
export function dnsblName(ip: string, zone: string): string {
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv4') return `${parsed.toByteArray().reverse().join('.')}.${zone}`;
  const hex = parsed.toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${[...hex].reverse().join('.')}.${zone}`;
}

export type ZoneVerdict = { zone: string; state: 'clean' | 'listed' | 'error_code' | 'unanswered'; answers: string[]; reason?: string };

/**
 * One zone's answer. 127.0.0.0/8 answers list the address, except 127.255.255.0/24: the
 * operators' error codes (Spamhaus: 127.255.255.252 typo, .254 query through a public or open
 * resolver, .255 excessive queries), which say nothing about the address.
 */
export async function askZone(resolver: OpsResolver, ip: string, zone: string): Promise<ZoneVerdict> {
  const name = dnsblName(ip, zone);
  try {
    const answers = await resolver.resolve4(name);
    const errors = answers.filter((a) => a.startsWith('127.255.255.'));
    const listings = answers.filter((a) => a.startsWith('127.') && !a.startsWith('127.255.255.'));
    if (listings.length) {
      const reason = await resolver.resolveTxt(name).then((t) => t.map((c) => c.join('')).join(' '), () => undefined);
      return { zone, state: 'listed', answers: listings, ...(reason ? { reason } : {}) };
    }
    if (errors.length) return { zone, state: 'error_code', answers: errors };
    return { zone, state: 'clean', answers };
  } catch (err) {
    if (isNoRecord(err)) return { zone, state: 'clean', answers: [] };
    return { zone, state: 'unanswered', answers: [], reason: dnsError(err) };
  }
}

const blocklist: CheckDefinition = {
  key: 'blocklist', light: false, timeoutMs: 60_000,
  async run({ deps, resolver }) {
    const zones = deps.config.operations.blocklist.zones;
    const ips = sourceAddresses(deps).filter((ip) => isIP(ip));
    if (!ips.length) return result('blocklist', 'network', 'unavailable', 'no public source address configured (delivery.egress.sourceIps or operations.blocklist.ips)', null, { zones });
    if (!zones.length) return result('blocklist', 'network', 'unavailable', 'no DNSBL zone configured (operations.blocklist.zones)', null, { zones });
    const out: CheckResult[] = [];
    for (const ip of ips) {
      const verdicts = await Promise.all(zones.map((z) => askZone(resolver, ip, z)));
      const listed = verdicts.filter((v) => v.state === 'listed');
      const codes = verdicts.filter((v) => v.state === 'error_code');
      const unanswered = verdicts.filter((v) => v.state === 'unanswered');
      const status = listed.length ? 'error' : codes.length ? 'warning' : unanswered.length === verdicts.length ? 'unavailable' : 'ok';
      const parts = [
        ...listed.map((v) => `listed on ${v.zone} (${v.answers.join(', ')}${v.reason ? `: ${v.reason}` : ''})`),
        ...codes.map((v) => `${v.zone} answered the error code ${v.answers.join(', ')} (not a listing: the zone refused the query, e.g. through a public resolver)`),
        ...unanswered.map((v) => `${v.zone}: DNS did not answer (${v.reason})`),
      ];
      out.push(result('blocklist', 'network', status, parts.length ? `${ip}: ${parts.join('; ')}` : `${ip} is on none of ${zones.length} zone(s)`,
        { zones: Object.fromEntries(verdicts.map((v) => [v.zone, v])) }, { zones }, { subject: ip, numeric: listed.length }));
    }
    return out;
  },
};

export const blocklistChecks: CheckDefinition[] = [blocklist];
