import { isIP } from 'node:net';
import { invalid } from '../core/errors.ts';
import { normalizeDnsName, normalizeDomainName } from './names.ts';

/** dkim_next: a prepared key's record, to publish before the key is activated. */
export type DnsRecordPurpose = 'spf' | 'dkim' | 'dkim_next' | 'dmarc' | 'return_path_mx' | 'return_path_spf';

export interface DnsRecord {
  type: 'TXT' | 'MX' | 'CNAME';
  /** Fully qualified owner name, without the trailing dot. */
  name: string;
  /** The record data as resolvers return it (TXT strings joined; MX exchange host). */
  value: string;
  priority?: number;
  purpose: DnsRecordPurpose;
  /** Whether verification needs this record to call the domain verified. */
  required: boolean;
  /** One line for the DNS administrator: why the record is there. */
  note: string;
}

export interface RecordOptions {
  /** Host that receives bounces for the return-path domain (the Fanout bounce listener's public name). */
  mxHost: string;
  /** Public addresses Fanout sends from; they become ip4:/ip6: mechanisms. */
  sendingIps?: string[];
  /** An SPF include that covers the sending hosts (e.g. _spf.mail.bank.example). */
  spfInclude?: string;
  /** Where DMARC aggregate reports go; defaults to postmaster@<domain>, a mailbox RFC 5321 requires. */
  dmarcRua?: string;
}

/** What the records need to know about a domain; a SendingDomainView has all of it. */
export interface DomainForRecords {
  domain: string;
  returnPathDomain: string;
  dkimSelector: string;
  dkimPublicKey: string;
  /** A prepared key that does not sign yet. */
  pendingDkim?: { selector: string; publicKey: string } | null;
}

export function checkRecordOptions(options: RecordOptions): RecordOptions {
  const mxHost = normalizeDomainName('mxHost', options.mxHost.replace(/\.$/, ''));
  const sendingIps = (options.sendingIps ?? []).map((ip, i) => {
    const v = ip.trim();
    if (!isIP(v.replace(/\/\d+$/, ''))) throw invalid(`sendingIps[${i}] "${ip}" is not an IP address`, [{ field: `sendingIps/${i}`, message: 'not an IP address' }]);
    return v.toLowerCase();
  });
  const spfInclude = options.spfInclude ? normalizeDnsName('spfInclude', options.spfInclude) : undefined;
  const dmarcRua = options.dmarcRua?.trim().replace(/^mailto:/i, '');
  if (dmarcRua !== undefined && !/^[^\s@;,!]+@[^\s@;,!]+\.[^\s@;,!]+$/.test(dmarcRua)) {
    throw invalid(`dmarcRua "${options.dmarcRua}" is not an email address`, [{ field: 'dmarcRua', message: 'not an email address' }]);
  }
  return { mxHost, sendingIps, ...(spfInclude ? { spfInclude } : {}), ...(dmarcRua ? { dmarcRua } : {}) };
}

/**
 * The SPF mechanisms that authorise Fanout's own sending hosts. Without known addresses or an
 * include, `a:<mxHost>` authorises the Fanout host itself (one machine sends and takes bounces).
 */
export function fanoutSpfMechanisms(options: RecordOptions): string[] {
  const out = (options.sendingIps ?? []).map((ip) => `${isIP(ip.replace(/\/\d+$/, '')) === 6 ? 'ip6' : 'ip4'}:${ip}`);
  if (options.spfInclude) out.push(`include:${options.spfInclude}`);
  if (!out.length) out.push(`a:${options.mxHost}`);
  return out;
}

export function dkimRecordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}

export function dkimRecordValue(publicKey: string): string {
  return `v=DKIM1; k=rsa; p=${publicKey}`;
}

/**
 * The exact records a DNS administrator publishes for one sending domain. The domain's own SPF
 * keeps `a mx` so replacing an SPF record never cuts off the bank's existing mail hosts; the
 * return-path domain is Fanout's alone, so its SPF names only Fanout's hosts.
 */
export function dnsRecords(domain: DomainForRecords, options: RecordOptions): DnsRecord[] {
  const o = checkRecordOptions(options);
  const mechanisms = fanoutSpfMechanisms(o);
  const rua = o.dmarcRua ?? `postmaster@${domain.domain}`;
  return [
    { type: 'TXT', name: domain.domain, value: ['v=spf1', 'a', 'mx', ...mechanisms, '~all'].join(' '), purpose: 'spf', required: false,
      note: 'SPF for the domain; merge the Fanout mechanisms into an existing v=spf1 record rather than adding a second one' },
    { type: 'TXT', name: dkimRecordName(domain.dkimSelector, domain.domain), value: dkimRecordValue(domain.dkimPublicKey), purpose: 'dkim', required: true,
      note: `DKIM public key for selector ${domain.dkimSelector}; Fanout signs with d=${domain.domain}` },
    ...(domain.pendingDkim ? [{ type: 'TXT' as const, name: dkimRecordName(domain.pendingDkim.selector, domain.domain), value: dkimRecordValue(domain.pendingDkim.publicKey), purpose: 'dkim_next' as const, required: false,
      note: `the next DKIM key (selector ${domain.pendingDkim.selector}): publish it now; Fanout signs with it once it is activated` }] : []),
    { type: 'TXT', name: `_dmarc.${domain.domain}`, value: `v=DMARC1; p=none; rua=mailto:${rua}`, purpose: 'dmarc', required: true,
      note: 'DMARC policy (monitoring); keep a stricter existing policy if there is one' },
    { type: 'MX', name: domain.returnPathDomain, value: o.mxHost, priority: 10, purpose: 'return_path_mx', required: true,
      note: 'bounces and complaints for the envelope sender reach Fanout' },
    { type: 'TXT', name: domain.returnPathDomain, value: ['v=spf1', ...mechanisms, '~all'].join(' '), purpose: 'return_path_spf', required: true,
      note: 'SPF for the envelope sender (return path): receivers check this one for Fanout mail' },
  ];
}

/** TXT data as quoted strings of at most 255 bytes each (RFC 1035 character-strings). */
export function txtStrings(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out.length ? out : [''];
}

/** One zone-file line per record, e.g. `fo202611._domainkey.example.com. 3600 IN TXT ( "v=DKIM1; ..." "..." )`. */
export function zoneFileLine(record: DnsRecord, ttl = 3600): string {
  const owner = `${record.name}.`;
  if (record.type === 'MX') return `${owner}\t${ttl}\tIN\tMX\t${record.priority ?? 10} ${record.value}.`;
  if (record.type === 'CNAME') return `${owner}\t${ttl}\tIN\tCNAME\t${record.value}.`;
  const strings = txtStrings(record.value).map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`);
  return `${owner}\t${ttl}\tIN\tTXT\t${strings.length > 1 ? `( ${strings.join(' ')} )` : strings[0]}`;
}
