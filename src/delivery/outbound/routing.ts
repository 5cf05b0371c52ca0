import { promises as dnsPromises } from 'node:dns';
import net from 'node:net';

/**
 * Where mail for a domain goes: static routes first (smarthost, tests, benchmark), then MX,
 * then the domain's own A/AAAA (RFC 5321 5.1 implicit MX). A route's `site` groups domains
 * that share the same MX hosts, so limits are held per provider rather than per domain.
 * DNS failures are returned as routes with `failure` set (and cached briefly), so a burst
 * of messages for a broken domain asks DNS once.
 */
export interface RouteHost {
  host: string;
  port: number;
}

export interface RouteFailure {
  /** true: bounce now (NXDOMAIN, null MX); false: retry later (SERVFAIL, timeout). */
  permanent: boolean;
  /** Sisimai-style reason for the bounce classifier. */
  reason: 'hostunknown' | 'notaccept' | 'networkerror';
  enhancedStatus: string;
  text: string;
}

export interface Route {
  domain: string;
  /** Sorted MX host names joined by ","; `host:port` for a static route; "" for a failure. */
  site: string;
  /** In the order to try them. Empty when `failure` is set. */
  hosts: RouteHost[];
  source: 'static' | 'mx' | 'a' | 'nullmx';
  /** Epoch ms after which this answer must be looked up again. */
  expiresAt: number;
  failure: RouteFailure | null;
}

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface AddressRecord {
  address: string;
  ttl: number;
}

/** The subset of node's dns.promises.Resolver used here; tests pass a fake. */
export interface DnsResolver {
  resolveMx(domain: string): Promise<MxRecord[]>;
  resolve4(domain: string, options: { ttl: true }): Promise<AddressRecord[]>;
  resolve6(domain: string, options: { ttl: true }): Promise<AddressRecord[]>;
}

export interface RouteResolverOptions {
  staticRoutes: Record<string, string>;
  resolver?: DnsResolver;
  now?: () => number;
  /** Port for MX and A routes; 25 except in tests. */
  port?: number;
  /** node cannot report MX TTLs, so MX answers are cached this long. */
  mxCacheSeconds?: number;
  maxCacheSeconds?: number;
  negativeCacheSeconds?: number;
  temporaryFailureCacheSeconds?: number;
  /** Shuffles equal-priority MX hosts (RFC 5321 5.1); tests pass `false` for a fixed order. */
  shuffleEqualPriority?: boolean;
  /** Timeout for one DNS query when the default resolver is used. */
  timeoutMs?: number;
}

export class RouteConfigError extends Error {
  override name = 'RouteConfigError';
}

/** `host:port`, `host` (port 25), `[v6]:port` or a bare IPv6 address. */
export function parseRouteTarget(target: string): RouteHost {
  const t = target.trim();
  let m = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/i.exec(t);
  if (!m) m = /^([^:\s[\]]+)(?::(\d{1,5}))?$/.exec(t);
  if (!m && net.isIPv6(t)) m = [t, t, undefined] as unknown as RegExpExecArray;
  if (!m || !m[1]) throw new RouteConfigError(`route target "${target}" is not host:port`);
  const port = m[2] === undefined ? 25 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RouteConfigError(`route target "${target}": port must be 1-65535`);
  return { host: m[1].toLowerCase(), port };
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Lower-cases, strips a trailing dot and IDN-encodes; throws on something that is not a domain. */
export function normaliseDomain(domain: string): string {
  let d = String(domain).trim().toLowerCase().replace(/\.$/, '');
  if (/[^\x20-\x7e]/.test(d)) {
    try {
      d = new URL(`http://${d}`).hostname;
    } catch {
      throw new RouteConfigError(`"${domain}" is not a domain name`);
    }
  }
  if (d.startsWith('[') && d.endsWith(']')) {
    // RFC 5321 4.1.3 address literals: [192.0.2.1] or [IPv6:2001:db8::1].
    const inner = d.slice(1, -1).replace(/^ipv6:/, '');
    if (net.isIP(inner)) return `[${inner}]`;
  }
  if (!DOMAIN.test(d)) throw new RouteConfigError(`"${domain}" is not a domain name`);
  return d;
}

const TEMPORARY_CODES = new Set(['ESERVFAIL', 'ETIMEOUT', 'ECONNREFUSED', 'EREFUSED', 'ECANCELLED', 'ENOMEM', 'EOF', 'EFILE', 'ECONNRESET', 'EBADRESP', 'ECONNABORTED']);
const NO_DOMAIN = new Set(['ENOTFOUND', 'ENODOMAIN']);
const NO_DATA = new Set(['ENODATA']);

function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
}

export class RouteResolver {
  readonly #static = new Map<string, { host: RouteHost; site: string }>();
  readonly #resolver: DnsResolver;
  readonly #now: () => number;
  readonly #port: number;
  readonly #opts: { mx: number; max: number; negative: number; temporary: number; shuffle: boolean };
  readonly #cache = new Map<string, Route>();
  readonly #inflight = new Map<string, Promise<Route>>();

  constructor(opts: RouteResolverOptions) {
    for (const [domain, target] of Object.entries(opts.staticRoutes ?? {})) {
      const key = domain.trim() === '*' ? '*' : normaliseDomain(domain);
      const host = parseRouteTarget(target);
      this.#static.set(key, { host, site: `${host.host.includes(':') ? `[${host.host}]` : host.host}:${host.port}` });
    }
    if (opts.resolver) {
      this.#resolver = opts.resolver;
    } else {
      const r = new dnsPromises.Resolver({ timeout: opts.timeoutMs ?? 5000, tries: 2 });
      this.#resolver = r as unknown as DnsResolver;
    }
    this.#now = opts.now ?? Date.now;
    this.#port = opts.port ?? 25;
    this.#opts = {
      mx: (opts.mxCacheSeconds ?? 300) * 1000,
      max: (opts.maxCacheSeconds ?? 3600) * 1000,
      negative: (opts.negativeCacheSeconds ?? 300) * 1000,
      temporary: (opts.temporaryFailureCacheSeconds ?? 30) * 1000,
      shuffle: opts.shuffleEqualPriority ?? true,
    };
  }

  /** The route for a recipient domain; never throws for DNS outcomes, only for a malformed domain. */
  async resolve(domain: string): Promise<Route> {
    const d = normaliseDomain(domain);
    const fixed = this.#static.get(d) ?? this.#static.get('*');
    if (fixed) return { domain: d, site: fixed.site, hosts: [fixed.host], source: 'static', expiresAt: Number.MAX_SAFE_INTEGER, failure: null };
    if (d.startsWith('[')) {
      // Address literal (user@[192.0.2.1]): deliver to that address, no DNS.
      const host = d.slice(1, -1);
      return { domain: d, site: `${d}:${this.#port}`, hosts: [{ host, port: this.#port }], source: 'a', expiresAt: Number.MAX_SAFE_INTEGER, failure: null };
    }
    const cached = this.#cache.get(d);
    if (cached && cached.expiresAt > this.#now()) return cached;
    let pending = this.#inflight.get(d);
    if (!pending) {
      pending = this.#lookup(d).finally(() => this.#inflight.delete(d));
      this.#inflight.set(d, pending);
    }
    const route = await pending;
    if (this.#cache.size > 100_000) this.#cache.clear();
    this.#cache.set(d, route);
    return route;
  }

  /** Forgets cached answers (all, or one domain). */
  invalidate(domain?: string): void {
    if (domain === undefined) this.#cache.clear();
    else this.#cache.delete(normaliseDomain(domain));
  }

  async #lookup(domain: string): Promise<Route> {
    const now = this.#now();
    let mx: MxRecord[];
    try {
      mx = await this.#resolver.resolveMx(domain);
    } catch (err) {
      const code = codeOf(err);
      if (NO_DATA.has(code)) return this.#addressRoute(domain);
      if (NO_DOMAIN.has(code)) return this.#failure(domain, now, true, `domain ${domain} does not exist (NXDOMAIN)`);
      return this.#failure(domain, now, false, `MX lookup for ${domain} failed: ${code || (err as Error).message}`);
    }
    if (mx.length === 0) return this.#addressRoute(domain);
    // RFC 7505: a single MX of "." (node reports it as "") means the domain takes no mail.
    if (mx.some((r) => r.exchange === '' || r.exchange === '.')) {
      return {
        domain, site: '', hosts: [], source: 'nullmx', expiresAt: now + Math.min(this.#opts.mx, this.#opts.max),
        failure: { permanent: true, reason: 'notaccept', enhancedStatus: '5.1.10', text: `domain ${domain} publishes a null MX (RFC 7505) and accepts no mail` },
      };
    }
    const sorted = this.#order(mx.map((r) => ({ exchange: r.exchange.toLowerCase().replace(/\.$/, ''), priority: r.priority })));
    const names = [...new Set(sorted.map((r) => r.exchange))];
    return {
      domain,
      site: [...names].sort().join(','),
      hosts: names.map((host) => ({ host, port: this.#port })),
      source: 'mx',
      expiresAt: now + Math.min(this.#opts.mx, this.#opts.max),
      failure: null,
    };
  }

  #order(records: MxRecord[]): MxRecord[] {
    const keyed = records.map((r) => ({ r, tie: this.#opts.shuffle ? Math.random() : 0 }));
    keyed.sort((a, b) => a.r.priority - b.r.priority || a.tie - b.tie || (a.r.exchange < b.r.exchange ? -1 : a.r.exchange > b.r.exchange ? 1 : 0));
    return keyed.map((k) => k.r);
  }

  /** No MX: the domain itself is the mail host if it has an address (RFC 5321 5.1). */
  async #addressRoute(domain: string): Promise<Route> {
    const now = this.#now();
    const [v4, v6] = await Promise.allSettled([this.#resolver.resolve4(domain, { ttl: true }), this.#resolver.resolve6(domain, { ttl: true })]);
    const records = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (records.length) {
      const ttl = Math.min(...records.map((r) => r.ttl)) * 1000;
      return { domain, site: domain, hosts: [{ host: domain, port: this.#port }], source: 'a', expiresAt: now + Math.min(Math.max(ttl, 1000), this.#opts.max), failure: null };
    }
    const codes = [v4, v6].map((r) => (r.status === 'rejected' ? codeOf(r.reason) : 'ENODATA'));
    if (codes.some((c) => TEMPORARY_CODES.has(c) || (!NO_DOMAIN.has(c) && !NO_DATA.has(c)))) {
      return this.#failure(domain, now, false, `address lookup for ${domain} failed: ${codes.join('/')}`);
    }
    return this.#failure(domain, now, true, `domain ${domain} has no MX and no address record`);
  }

  #failure(domain: string, now: number, permanent: boolean, text: string): Route {
    return {
      domain, site: '', hosts: [], source: 'mx',
      expiresAt: now + (permanent ? this.#opts.negative : this.#opts.temporary),
      failure: permanent
        ? { permanent: true, reason: 'hostunknown', enhancedStatus: '5.1.2', text }
        : { permanent: false, reason: 'networkerror', enhancedStatus: '4.4.3', text },
    };
  }
}
