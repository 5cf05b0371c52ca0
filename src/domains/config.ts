import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import ipaddr from 'ipaddr.js';
import type { RecordOptions } from './records.ts';

const closed = { additionalProperties: false } as const;

/** What the DNS records a sending domain must publish point at. */
export const DomainRecordsConfigSchema = Type.Object({
  /** Host that receives bounces for return-path domains (their MX); default: delivery.heloName. */
  bounceHost: Type.Union([Type.String(), Type.Null()], { default: null }),
  /** An SPF include for a relay or provider in front of Fanout, e.g. spf.bank.example. */
  spfInclude: Type.Union([Type.String(), Type.Null()], { default: null }),
  /** Address for DMARC aggregate reports (rua=mailto:...). */
  dmarcRua: Type.Union([Type.String(), Type.Null()], { default: null }),
}, { ...closed, default: {} });
export type DomainRecordsConfig = Static<typeof DomainRecordsConfigSchema>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    domains: DomainRecordsConfig;
  }
}

/** The parts of the configuration the DNS records depend on (structural, so any config shape with them fits). */
export interface RecordConfig {
  delivery: {
    heloName: string;
    egress?: { sourceIps?: string[] };
  };
  domains?: { bounceHost: string | null; spfInclude: string | null; dmarcRua: string | null };
}

/**
 * DNS record options from the configuration: the sender's HELO name is the host that also takes
 * bounces in the one-process deployment, and the configured source addresses are the sending
 * IPs. Private and reserved addresses are left out: behind NAT they are not what receivers see,
 * and SPF naming them would authorise nothing.
 */
export function recordOptionsFromConfig(config: RecordConfig): RecordOptions {
  const sendingIps = (config.delivery.egress?.sourceIps ?? []).filter((ip) => {
    try {
      return ipaddr.parse(ip).range() === 'unicast';
    } catch {
      return false;
    }
  });
  const d = config.domains;
  return {
    mxHost: d?.bounceHost ?? config.delivery.heloName,
    ...(sendingIps.length ? { sendingIps } : {}),
    ...(d?.spfInclude ? { spfInclude: d.spfInclude } : {}),
    ...(d?.dmarcRua ? { dmarcRua: d.dmarcRua } : {}),
  };
}
