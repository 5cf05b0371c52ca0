import { Resolver } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/** The in-addr.arpa / ip6.arpa name of an address. */
export function arpaName(ip: string): string {
  const bytes = ipaddr.parse(ip).toByteArray();
  if (bytes.length === 4) return `${bytes.reverse().join('.')}.in-addr.arpa`;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}

/** The look-ups the DNS and blocklist checks make, through the configured servers. */
export interface OpsResolver {
  resolveTxt(name: string): Promise<string[][]>;
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  reverse(ip: string): Promise<string[]>;
  /** The servers asked (empty: the system's). */
  servers: string[];
}

/** NXDOMAIN and "no such record" are answers; everything else means DNS did not answer. */
const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN', 'ENONAME']);

export function isNoRecord(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && NO_RECORD.has(code);
}

export function dnsError(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * node's resolver with one short try and a hard deadline: a machine without DNS gets its
 * answer ("DNS did not answer") in seconds. `servers` are `IP` or `IP:port` (tests run their own
 * DNS server on a loopback port).
 */
export function opsResolver(servers: string[], timeoutMs: number): OpsResolver {
  const run = async <T>(fn: (r: Resolver) => Promise<T>): Promise<T> => {
    const r = new Resolver({ timeout: timeoutMs, tries: 1 });
    if (servers.length) r.setServers(servers);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        r.cancel();
        reject(Object.assign(new Error(`DNS did not answer within ${timeoutMs * 2} ms`), { code: 'ETIMEOUT' }));
      }, timeoutMs * 2);
    });
    try {
      return await Promise.race([fn(r), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    servers,
    resolveTxt: (name) => run((r) => r.resolveTxt(name)),
    resolveMx: (name) => run((r) => r.resolveMx(name)),
    resolve4: (name) => run((r) => r.resolve4(name)),
    resolve6: (name) => run((r) => r.resolve6(name)),
    // A plain PTR query: node's reverse() goes through gethostbyaddr, which falls back to the
    // hosts file and turns a DNS time-out into "not found".
    reverse: (ip) => run((r) => r.resolvePtr(arpaName(ip))),
  };
}
