import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { after, before, describe, it } from 'node:test';
import { RouteResolver, parseRouteTarget, normaliseDomain } from './routing.ts';
import type { DnsResolver, MxRecord } from './routing.ts';

type Zone = Record<string, { MX?: [number, string][]; A?: string[]; AAAA?: string[]; rcode?: number; ttl?: number }>;

/** A small authoritative DNS server on loopback UDP, so node's own resolver is exercised. */
async function startDns(zone: Zone): Promise<{ port: number; queries: string[]; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const queries: string[] = [];
  const encodeName = (name: string) => Buffer.concat([...name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  sock.on('message', (msg, rinfo) => {
    let off = 12;
    const labels: string[] = [];
    while (msg[off]) {
      labels.push(msg.subarray(off + 1, off + 1 + msg[off]!).toString());
      off += msg[off]! + 1;
    }
    const qEnd = off + 5;
    const qtype = msg.readUInt16BE(off + 1);
    const name = labels.join('.').toLowerCase();
    const type = ({ 1: 'A', 15: 'MX', 28: 'AAAA' } as Record<number, string>)[qtype] ?? String(qtype);
    queries.push(`${type} ${name}`);
    const entry = zone[name];
    const rcode = entry ? entry.rcode ?? 0 : 3;
    const answers: Buffer[] = [];
    const rr = (t: number, ttl: number, rdata: Buffer) => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(0xc00c, 0);
      h.writeUInt16BE(t, 2);
      h.writeUInt16BE(1, 4);
      h.writeUInt32BE(ttl, 6);
      h.writeUInt16BE(rdata.length, 10);
      answers.push(h, rdata);
    };
    let count = 0;
    if (entry && rcode === 0) {
      const ttl = entry.ttl ?? 300;
      if (type === 'MX') for (const [pref, ex] of entry.MX ?? []) { const p = Buffer.alloc(2); p.writeUInt16BE(pref); rr(15, ttl, Buffer.concat([p, encodeName(ex)])); count++; }
      if (type === 'A') for (const a of entry.A ?? []) { rr(1, ttl, Buffer.from(a.split('.').map(Number))); count++; }
      if (type === 'AAAA') for (const _a of entry.AAAA ?? []) { rr(28, ttl, Buffer.alloc(16, 1)); count++; }
    }
    const head = Buffer.alloc(12);
    msg.copy(head, 0, 0, 2);
    head.writeUInt16BE(0x8180 | rcode, 2);
    head.writeUInt16BE(1, 4);
    head.writeUInt16BE(count, 6);
    sock.send(Buffer.concat([head, msg.subarray(12, qEnd), ...answers]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, queries, close: () => new Promise((r) => sock.close(() => r())) };
}

describe('routing through node\'s resolver against a loopback DNS server', () => {
  let dns: Awaited<ReturnType<typeof startDns>>;
  let routes: RouteResolver;
  let now = 1_000_000;
  before(async () => {
    dns = await startDns({
      'bank.test': { MX: [[20, 'mx2.bank.test'], [10, 'mx1.bank.test']] },
      'alias.test': { MX: [[5, 'MX2.bank.test.'], [5, 'mx1.bank.test']] },
      'nomx.test': { A: ['127.0.0.1'], ttl: 60 },
      'v6only.test': { AAAA: ['::1'], ttl: 120 },
      'null.test': { MX: [[0, '']] },
      'empty.test': {},
      'broken.test': { rcode: 2 },
    });
    const resolver = new dnsPromises.Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dns.port}`]);
    routes = new RouteResolver({ staticRoutes: {}, resolver: resolver as unknown as DnsResolver, now: () => now, shuffleEqualPriority: false, mxCacheSeconds: 300, temporaryFailureCacheSeconds: 30, negativeCacheSeconds: 600 });
  });
  after(() => dns.close());

  it('orders MX hosts by priority; the site is the sorted host set, shared by domains on the same hosts', async () => {
    const a = await routes.resolve('Bank.Test.');
    assert.equal(a.source, 'mx');
    assert.deepEqual(a.hosts, [{ host: 'mx1.bank.test', port: 25 }, { host: 'mx2.bank.test', port: 25 }]);
    assert.equal(a.site, 'mx1.bank.test,mx2.bank.test');
    assert.equal(a.failure, null);
    assert.equal(a.expiresAt, now + 300_000);
    const b = await routes.resolve('alias.test');
    assert.equal(b.site, a.site);
  });

  it('caches answers until they expire', async () => {
    const before = dns.queries.length;
    await routes.resolve('bank.test');
    assert.equal(dns.queries.length, before, 'served from cache');
    now += 300_001;
    await routes.resolve('bank.test');
    assert.equal(dns.queries.length, before + 1, 'asked again after expiry');
  });

  it('asks DNS once for concurrent lookups of one domain', async () => {
    routes.invalidate();
    const before = dns.queries.length;
    await Promise.all(Array.from({ length: 20 }, () => routes.resolve('bank.test')));
    assert.equal(dns.queries.length, before + 1);
  });

  it('falls back to A with its TTL when there is no MX', async () => {
    const r = await routes.resolve('nomx.test');
    assert.equal(r.source, 'a');
    assert.deepEqual(r.hosts, [{ host: 'nomx.test', port: 25 }]);
    assert.equal(r.expiresAt, now + 60_000);
  });

  it('falls back to AAAA alone', async () => {
    const r = await routes.resolve('v6only.test');
    assert.equal(r.source, 'a');
    assert.equal(r.expiresAt, now + 120_000);
  });

  it('null MX (RFC 7505) is a permanent failure route', async () => {
    const r = await routes.resolve('null.test');
    assert.equal(r.source, 'nullmx');
    assert.deepEqual(r.hosts, []);
    assert.deepEqual(r.failure && { p: r.failure.permanent, e: r.failure.enhancedStatus }, { p: true, e: '5.1.10' });
  });

  it('NXDOMAIN is a permanent hostunknown failure, cached for the negative TTL', async () => {
    const r = await routes.resolve('nowhere.test');
    assert.equal(r.failure?.permanent, true);
    assert.equal(r.failure?.reason, 'hostunknown');
    assert.equal(r.failure?.enhancedStatus, '5.1.2');
    assert.equal(r.expiresAt, now + 600_000);
  });

  it('a domain with no MX and no address is a permanent failure', async () => {
    const r = await routes.resolve('empty.test');
    assert.equal(r.failure?.permanent, true);
    assert.match(r.failure?.text ?? '', /no MX and no address/);
  });

  it('SERVFAIL is a temporary failure, remembered only briefly', async () => {
    const r = await routes.resolve('broken.test');
    assert.equal(r.failure?.permanent, false);
    assert.equal(r.failure?.enhancedStatus, '4.4.3');
    assert.equal(r.expiresAt, now + 30_000);
  });
});

describe('routing rules without DNS', () => {
  const failing: DnsResolver = {
    resolveMx: async () => { throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }); },
    resolve4: async () => [],
    resolve6: async () => [],
  };

  it('static routes win over DNS: exact domain first, then "*"; site is host:port', async () => {
    let asked = 0;
    const resolver: DnsResolver = { ...failing, resolveMx: async (): Promise<MxRecord[]> => { asked++; return []; } };
    const r = new RouteResolver({ staticRoutes: { '*': '127.0.0.1:2600', 'bank.test': 'relay.bank.test:25', 'v6.test': '[::1]:2525' }, resolver });
    assert.deepEqual(await r.resolve('example.com'), { domain: 'example.com', site: '127.0.0.1:2600', hosts: [{ host: '127.0.0.1', port: 2600 }], source: 'static', expiresAt: Number.MAX_SAFE_INTEGER, failure: null });
    assert.equal((await r.resolve('BANK.test')).site, 'relay.bank.test:25');
    assert.equal((await r.resolve('v6.test')).site, '[::1]:2525');
    assert.equal(asked, 0);
  });

  it('timeouts are temporary failures', async () => {
    const r = new RouteResolver({ staticRoutes: {}, resolver: failing });
    const route = await r.resolve('slow.test');
    assert.equal(route.failure?.permanent, false);
    assert.match(route.failure?.text ?? '', /ETIMEOUT/);
  });

  it('address literals route to the address', async () => {
    const r = new RouteResolver({ staticRoutes: {}, resolver: failing, port: 2525 });
    assert.deepEqual((await r.resolve('[127.0.0.1]')).hosts, [{ host: '127.0.0.1', port: 2525 }]);
    assert.deepEqual((await r.resolve('[IPv6:::1]')).hosts, [{ host: '::1', port: 2525 }]);
    await assert.rejects(r.resolve('[999.1.1.1]'), /not a domain name/);
  });

  it('shuffles equal priorities but keeps priority order', async () => {
    const resolver: DnsResolver = { ...failing, resolveMx: async () => [{ exchange: 'c.test', priority: 10 }, { exchange: 'a.test', priority: 10 }, { exchange: 'z.test', priority: 5 }] };
    const r = new RouteResolver({ staticRoutes: {}, resolver, mxCacheSeconds: 0 });
    const firsts = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const route = await r.resolve('x.test');
      assert.equal(route.hosts[0]?.host, 'z.test');
      firsts.add(route.hosts[1]!.host);
      assert.equal(route.site, 'a.test,c.test,z.test');
    }
    assert.deepEqual([...firsts].sort(), ['a.test', 'c.test']);
  });

  it('bad input gets clear errors', async () => {
    assert.throws(() => parseRouteTarget('host:99999'), /port must be 1-65535/);
    assert.throws(() => parseRouteTarget('a b:25'), /not host:port/);
    assert.deepEqual(parseRouteTarget('mx.bank.test'), { host: 'mx.bank.test', port: 25 });
    assert.throws(() => new RouteResolver({ staticRoutes: { 'bad domain': 'x:25' } }), /not a domain name/);
    const r = new RouteResolver({ staticRoutes: {}, resolver: failing });
    await assert.rejects(r.resolve('not a domain'), /not a domain name/);
    assert.equal(normaliseDomain('Bücher.Example.'), 'xn--bcher-kva.example');
  });
});
